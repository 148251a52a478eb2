#!/usr/bin/env node
// The published entry point. Oleada runs its TypeScript through tsx rather than a build step,
// so the command and the tests execute the very same sources.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
