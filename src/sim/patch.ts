// JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386). Both work on plain JSON and never modify their input.
import { deepEqual, isPlainObject } from './objects.ts';

/** A patch that cannot be applied to the object; the API answers 422 (a JSON Patch `test` failing included). */
export class PatchError extends Error {
  override name = 'PatchError';
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}": must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, forInsert: boolean): number {
  if (forInsert && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}"`);
  const index = Number(token);
  if (index > length || (!forInsert && index === length)) throw new PatchError(`array index ${index} out of bounds (length ${length})`);
  return index;
}

/** Copies the containers along `tokens` (all but the last), so the change can be made without touching the input. */
function parentOf(root: unknown, tokens: string[], pointer: string): { container: unknown; last: string } {
  let current = root;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false)];
    else if (isPlainObject(current) && token in current) current = current[token];
    else throw new PatchError(`path "${pointer}" does not exist`);
  }
  return { container: current, last: tokens[tokens.length - 1]! };
}

function read(root: unknown, pointer: string): unknown {
  let current = root;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false)];
    else if (isPlainObject(current) && Object.hasOwn(current, token)) current = current[token];
    else throw new PatchError(`path "${pointer}" does not exist`);
  }
  return current;
}

function add(root: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { container, last } = parentOf(root, tokens, pointer);
  if (Array.isArray(container)) container.splice(arrayIndex(last, container.length, true), 0, value);
  else if (isPlainObject(container)) container[last] = value;
  else throw new PatchError(`path "${pointer}" does not exist`);
  return root;
}

function remove(root: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { container, last } = parentOf(root, tokens, pointer);
  if (Array.isArray(container)) container.splice(arrayIndex(last, container.length, false), 1);
  else if (isPlainObject(container) && Object.hasOwn(container, last)) delete container[last];
  else throw new PatchError(`unable to remove nonexistent key: ${last}: missing value`);
  return root;
}

/** Applies an RFC 6902 operation list. */
export function applyJsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = structuredClone(document);
  for (const op of operations) {
    if (!isPlainObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new PatchError(`invalid operation ${JSON.stringify(op)}`);
    const value = () => {
      if (!('value' in op)) throw new PatchError(`operation "${op.op}" needs a value`);
      return structuredClone(op.value);
    };
    const from = () => {
      if (typeof op.from !== 'string') throw new PatchError(`operation "${op.op}" needs "from"`);
      return op.from;
    };
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, value());
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        read(doc, op.path);
        doc = op.path === '' ? value() : add(remove(doc, op.path), op.path, value());
        break;
      case 'move': {
        const source = from();
        if (op.path.startsWith(`${source}/`)) throw new PatchError(`cannot move "${source}" into its own child "${op.path}"`);
        const moved = read(doc, source);
        doc = add(remove(doc, source), op.path, moved);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, structuredClone(read(doc, from())));
        break;
      case 'test':
        if (!deepEqual(read(doc, op.path), op.value)) throw new PatchError(`testing value ${op.path} failed`);
        break;
      default:
        throw new PatchError(`unknown operation "${op.op}"`);
    }
  }
  return doc;
}

/** Applies an RFC 7386 merge patch: objects merge recursively, null deletes, anything else (arrays too) replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
