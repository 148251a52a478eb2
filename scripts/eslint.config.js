// ESLint's flat config. It lives in scripts/ because the repository's top level is kept to the fixed layout;
// `npm run lint` points ESLint at it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const UPWARD = { group: ['**/api/**', '**/cli/**'], message: 'nothing imports api/ or cli/ (docs/architecture.md)' };
const IO_MODULES = ['pg', 'ioredis', 'bullmq', 'fastify', 'prom-client', 'pino', '@slack/web-api'].map((name) => ({
  name,
  message: 'decide, spec and the model are pure; do I/O in the tick, the store or the API',
}));
const PURE_PATTERNS = [
  { group: ['node:*'], message: 'decide, spec and the model are pure: no Node I/O modules' },
  { group: ['@kubernetes/client-node'], allowTypeImports: true, message: 'pure code may use client-node types, never its values' },
  { group: ['**/store/**', '**/queue/**', '**/runtime.ts', '**/engine/tick.ts', '**/engine/rollout-service.ts'], message: 'pure code does no I/O' },
  { group: ['**/clusters/**'], allowTypeImports: true, message: 'pure code may use the types of clusters/, not its clients' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.oleada/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
      // Nothing but src/config.ts reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through src/config.ts' }],
    },
  },
  {
    // A switch over a union must name every member, so a new phase or action cannot slip through as a silent no-op.
    // This rule needs type information, which is slow, so only the product code is linted with types.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: { '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }] },
  },
  {
    // The dependency rules of docs/architecture.md. Nothing below the API and the CLI imports them.
    files: ['src/**/*.ts'],
    ignores: ['src/api/**', 'src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [UPWARD] }] },
  },
  {
    // The store and the queue hold data and jobs; they never call the engine that uses them.
    files: ['src/store/**/*.ts', 'src/queue/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [UPWARD, { group: ['**/engine/**'], message: 'store/ and queue/ must not import engine/; shared types live in src/model' }] }] },
  },
  {
    // The rule book, the spec and the shared model are pure: no I/O, no clients, no server, only types from clusters/.
    files: ['src/engine/decide.ts', 'src/engine/decide/**/*.ts', 'src/engine/observations.ts', 'src/engine/commands.ts', 'src/clusters/providers/replicas-weights.ts', 'src/spec/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: IO_MODULES, patterns: [UPWARD, ...PURE_PATTERNS] }],
    },
  },
  {
    files: ['src/config.ts', 'src/cli/**', 'src/sim/**', 'test/**', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Tests walk JSON answers freely; typing every probe of a Kubernetes object would add noise, not safety.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
);
