// Plain JavaScript, because it starts a worker thread from the TypeScript sources (under tsx or vitest): a new thread
// does not inherit the loader of the thread that made it, so this registers tsx and then imports the entry it is
// given as its first argument (first-tries.ts). The compiled build starts its thread's JavaScript directly.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
