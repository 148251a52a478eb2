/**
 * One problem in a rollout file (or a clusters file): where it is, as a JSON pointer into the document, and what was
 * expected there. `line` and `column` (1-based) are added when the document was text and the place could be found.
 */
export interface SpecError {
  /** JSON pointer such as `/waves/1/maxParallel`; the empty string is the whole document. */
  path: string;
  /** What is expected and what was found, e.g. "must be a whole number ≥ 1, got 0". */
  message: string;
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

/** Builds a JSON pointer (RFC 6901): `~` and `/` inside a key are escaped, so `app.kubernetes.io/name` stays one segment. */
export function toPointer(segments: readonly PathSegment[]): string {
  return segments.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** The inverse of `toPointer`; numeric-looking segments stay strings, because a map may have a key "0". */
export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

const MAX_SHOWN = 60;

/**
 * A short description of a value for "got ..." in messages. It never throws (values may be cyclic, or exotic objects
 * passed through the API), and long strings are cut so that one bad field cannot flood a response.
 */
export function describeValue(value: unknown): string {
  try {
    if (value === undefined) return 'nothing';
    if (value === null) return 'nothing (an empty value)';
    if (typeof value === 'string') {
      const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
      return JSON.stringify(shown);
    }
    if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
    if (typeof value === 'boolean') return String(value);
    if (typeof value === 'bigint') return `the big integer ${value}`;
    if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
    if (typeof value === 'object') {
      if (!isPlainObject(value)) return `a ${value.constructor?.name ?? 'special'} object`;
      const keys = Object.keys(value);
      if (keys.length === 0) return 'an empty object';
      const shown = keys.slice(0, 3).join(', ');
      return `an object with ${shown}${keys.length > 3 ? ', …' : ''}`;
    }
    return `a ${typeof value}`;
  } catch {
    return 'an unreadable value';
  }
}

/** An object as JSON or YAML produce it (no class instance such as a Buffer, Date or Map). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
