// Builds the dashboard into .oleada/build/web, which src/api/dashboard.ts serves. Preact's JSX is compiled by Vite's
// own transformer; no framework plugin is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../.oleada/build/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // One small app: a single chunk loads in one round trip.
    modulePreload: false,
    reportCompressedSize: true,
  },
});
