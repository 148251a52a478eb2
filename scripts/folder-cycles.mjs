// Import cycles between the folders of src/ (madge's --circular only sees cycles between files). Each folder is one
// node; the files at the top of src/ (config.ts, errors.ts, runtime.ts...) are nodes of their own. Exits 1 on a cycle.
import madge from 'madge';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = await madge(`${root}src`, { fileExtensions: ['ts'], tsConfig: `${root}tsconfig.json` });
const unitOf = (file) => file.split('/')[0];
const edges = new Map();
for (const [file, imports] of Object.entries(result.obj())) {
  const from = unitOf(file);
  for (const imported of imports) {
    const to = unitOf(imported);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${file} -> ${imported}`);
  }
}

// Depth-first search for a back edge; prints one file import per step of the cycle, so it can be fixed.
const state = new Map();
const path = [];
function visit(node) {
  state.set(node, 'open');
  path.push(node);
  for (const next of edges.get(node)?.keys() ?? []) {
    if (state.get(next) === 'open') {
      const cycle = [...path.slice(path.indexOf(next)), next];
      console.error(`folder cycle: ${cycle.join(' -> ')}`);
      for (let i = 0; i + 1 < cycle.length; i++) console.error(`  ${edges.get(cycle[i]).get(cycle[i + 1])}`);
      process.exit(1);
    }
    if (!state.has(next)) visit(next);
  }
  path.pop();
  state.set(node, 'done');
}
for (const node of edges.keys()) if (!state.has(node)) visit(node);
console.log(`no import cycle between the ${new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]).size} folders of src/`);
