import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.ts';
import { describeValue, isPlainObject, toPointer, type PathSegment, type SpecError } from './errors.ts';
import { suggest } from './suggest.ts';

/*
 * Validation that people can read. TypeBox's own errors stop at the first failing branch and speak JSON Schema
 * ("must match pattern ..."), so this walks the same schema itself, reports every problem at its JSON pointer in
 * words ("must be a whole number ≥ 1, got 0"), suggests the field meant by an unknown one, and fills in defaults.
 *
 * It understands the keywords the project's schemas use: type, properties, required, additionalProperties,
 * patternProperties, propertyNames, min/maxProperties, items, min/maxItems, min/maxLength, pattern, minimum, maximum (and the
 * exclusive ones), const, anyOf (of constants, or of objects told apart by a key only one of them has), default,
 * and two extensions: `x-expected`, the phrase for what belongs there, and `x-minimum-ms` on durations. Callers
 * check the result with TypeBox as well, so a keyword this misses can never let a bad document through.
 */

type Schema = Readonly<Record<string, unknown>>;

export interface ValidateOptions {
  /** Most errors reported; the rest are summed up in one last error. */
  maxErrors?: number;
  /** Rewrites a value before it is quoted in a message, to keep secrets (a URL's password) out of errors. */
  redact?: (pointer: string, value: unknown) => unknown;
}

export interface ValidationResult {
  /** A copy of the input with defaults filled in (meaningful only when there are no errors). */
  value: unknown;
  errors: SpecError[];
}

export function validate(schema: object, input: unknown, options: ValidateOptions = {}): ValidationResult {
  const walker = new Walker(options);
  const value = walker.walk(schema as Schema, input, []);
  return { value, errors: walker.finish() };
}

class Walker {
  private readonly errors: SpecError[] = [];
  private dropped = 0;
  private readonly maxErrors: number;

  constructor(private readonly options: ValidateOptions) {
    this.maxErrors = options.maxErrors ?? 100;
  }

  finish(): SpecError[] {
    if (this.dropped > 0) {
      this.errors.push({ path: '', message: `and ${this.dropped} more problem${this.dropped === 1 ? '' : 's'} not listed` });
    }
    return this.errors;
  }

  private report(path: readonly PathSegment[], message: string): void {
    this.reportAt(toPointer(path), message);
  }

  private reportAt(pointer: string, message: string): void {
    if (this.errors.length >= this.maxErrors) {
      this.dropped++;
      return;
    }
    this.errors.push({ path: pointer, message });
  }

  private got(path: readonly PathSegment[], value: unknown): string {
    const shown = this.options.redact ? this.options.redact(toPointer(path), value) : value;
    return describeValue(shown);
  }

  private mismatch(schema: Schema, value: unknown, path: readonly PathSegment[], hint = ''): void {
    this.report(path, `must be ${expected(schema)}, got ${this.got(path, value)}${hint}`);
  }

  walk(schema: Schema, value: unknown, path: PathSegment[]): unknown {
    if (Array.isArray(schema.anyOf)) return this.walkUnion(schema, schema.anyOf as Schema[], value, path);
    if ('const' in schema) {
      if (value !== schema.const) this.mismatch(schema, value, path);
      return value;
    }
    switch (schema.type) {
      case 'object':
        return this.walkObject(schema, value, path);
      case 'array':
        return this.walkArray(schema, value, path);
      case 'string':
        this.checkString(schema, value, path);
        return value;
      case 'integer':
      case 'number':
        this.checkNumber(schema, value, path);
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') this.mismatch(schema, value, path);
        return value;
      case 'null':
        if (value !== null) this.mismatch(schema, value, path);
        return value;
      default:
        return value;
    }
  }

  private walkUnion(schema: Schema, branches: Schema[], value: unknown, path: PathSegment[]): unknown {
    if (branches.every((branch) => 'const' in branch)) {
      const allowed = branches.map((branch) => branch.const);
      if (!allowed.includes(value)) {
        const close = typeof value === 'string' ? suggest(value, allowed.map(String)) : undefined;
        this.mismatch(schema, value, path, close !== undefined ? ` (did you mean ${close}?)` : '');
      }
      return value;
    }
    if (branches.every((branch) => branch.type === 'object')) return this.walkTagged(schema, branches, value, path);
    // A general union: the first branch without errors wins, else the branch that came closest explains itself.
    let best: { walker: Walker; value: unknown } | undefined;
    for (const branch of branches) {
      const walker = new Walker(this.options);
      const result = walker.walk(branch, value, path);
      if (walker.errors.length === 0) return result;
      if (!best || walker.errors.length < best.walker.errors.length) best = { walker, value: result };
    }
    if (!best) return value;
    for (const error of best.walker.errors) this.reportAt(error.path, error.message);
    return best.value;
  }

  /** A union of objects told apart by a key only one branch has: `setWeight` or `pause`, `clusters` or `selector`. */
  private walkTagged(schema: Schema, branches: Schema[], value: unknown, path: PathSegment[]): unknown {
    if (!isPlainObject(value)) {
      this.mismatch(schema, value, path);
      return value;
    }
    const tags = branches.map((branch) => distinguishingKeys(branch, branches));
    const present = branches.flatMap((branch, index) =>
      tags[index]!.some((key) => Object.hasOwn(value, key) && value[key] !== undefined) ? [{ branch, keys: tags[index]! }] : [],
    );
    if (present.length === 1) return this.walk(present[0]!.branch, value, path);
    const allTags = tags.flat();
    if (present.length > 1) {
      const found = allTags.filter((key) => Object.hasOwn(value, key) && value[key] !== undefined);
      this.report(path, `has both ${found.join(' and ')}; give exactly one of them (${expected(schema)})`);
      return value;
    }
    // No tag at all: a misspelt tag (`setweight`) is the likeliest cause, so name it if there is one.
    const known = new Set(branches.flatMap((branch) => Object.keys(properties(branch))));
    let explained = false;
    for (const key of Object.keys(value)) {
      if (known.has(key)) continue;
      const close = suggest(key, allTags);
      if (close !== undefined) {
        this.report([...path, key], `unknown field "${key}" is not allowed; did you mean "${close}"?`);
        explained = true;
      }
    }
    if (!explained) {
      this.report(path, `needs ${allTags.join(' or ')}: must be ${expected(schema)}, got ${this.got(path, value)}`);
    }
    return value;
  }

  private walkObject(schema: Schema, value: unknown, path: PathSegment[]): unknown {
    if (!isPlainObject(value)) {
      this.mismatch(schema, value, path);
      return value;
    }
    const props = properties(schema);
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>).map(
      ([pattern, child]) => [cachedRegExp(pattern), child] as const,
    );
    const additional = schema.additionalProperties;
    const entries = new Map<string, unknown>();
    const extra: [string, unknown][] = [];

    const names = schema.propertyNames as Schema | undefined;
    for (const key of Object.keys(value)) {
      const child = value[key];
      if (names && !matchesString(names, key)) {
        this.report([...path, key], `key ${describeValue(key)} is not valid: must be ${expected(names)}`);
        continue;
      }
      if (Object.hasOwn(props, key)) {
        if (child !== undefined) entries.set(key, this.walk(props[key]!, child, [...path, key]));
        continue;
      }
      const patterned = patterns.find(([regexp]) => regexp.test(key));
      if (patterned) {
        extra.push([key, this.walk(patterned[1], child, [...path, key])]);
      } else if (additional === false) {
        const close = suggest(key, Object.keys(props));
        const advice = close !== undefined ? `did you mean "${close}"?` : `allowed here: ${Object.keys(props).join(', ')}`;
        this.report([...path, key], `unknown field "${key}" is not allowed; ${advice}`);
      } else if (typeof additional === 'object' && additional !== null) {
        extra.push([key, this.walk(additional as Schema, child, [...path, key])]);
      } else {
        extra.push([key, child]);
      }
    }

    const required = new Set((schema.required ?? []) as string[]);
    const result: [string, unknown][] = [];
    for (const [key, child] of Object.entries(props)) {
      if (entries.has(key)) {
        result.push([key, entries.get(key)]);
      } else if ('default' in child) {
        result.push([key, structuredClone(child.default)]);
      } else if (required.has(key)) {
        this.report([...path, key], `is required: ${expected(child)}`);
      }
    }
    const count = Object.keys(value).length;
    if (typeof schema.minProperties === 'number' && count < schema.minProperties) this.mismatch(schema, value, path);
    if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) this.mismatch(schema, value, path);
    // fromEntries defines own properties, so a key such as "__proto__" can never reach a prototype.
    return Object.fromEntries([...result, ...extra]);
  }

  private walkArray(schema: Schema, value: unknown, path: PathSegment[]): unknown {
    if (!Array.isArray(value)) {
      this.mismatch(schema, value, path);
      return value;
    }
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      const n = schema.minItems;
      this.report(path, `must be ${expected(schema)} with at least ${n} ${n === 1 ? 'entry' : 'entries'}, got ${this.got(path, value)}`);
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      // Walking a huge list item by item would only bury this one useful message.
      this.report(path, `must have at most ${schema.maxItems} entries, got ${value.length}`);
      return value;
    }
    const items = schema.items as Schema | undefined;
    return items ? value.map((item, index) => this.walk(items, item, [...path, index])) : [...value];
  }

  private checkString(schema: Schema, value: unknown, path: PathSegment[]): void {
    const isDuration = schema.pattern === DURATION_PATTERN;
    if (typeof value !== 'string') {
      let hint = '';
      if (isDuration && typeof value === 'number') hint = `: add a unit, such as "${value}s"`;
      else if (typeof value === 'number' || typeof value === 'boolean') {
        // Not `"${value}"`: YAML has already turned 1.10 into 1.1, so only the author knows the text they meant.
        hint = `: put the value in quotes so that YAML keeps it as text`;
      }
      this.mismatch(schema, value, path, hint);
      return;
    }
    const tooShort = typeof schema.minLength === 'number' && value.length < schema.minLength;
    const tooLong = typeof schema.maxLength === 'number' && value.length > schema.maxLength;
    if (tooLong && !('x-expected' in schema)) {
      this.report(path, `must be at most ${schema.maxLength} characters long, got ${value.length}`);
      return;
    }
    if (tooShort || tooLong || (typeof schema.pattern === 'string' && !cachedRegExp(schema.pattern).test(value))) {
      const hint = isDuration && /^\d+$/.test(value) ? `: add a unit, such as "${value}s"` : '';
      this.mismatch(schema, value, path, hint);
      return;
    }
    const minimumMs = schema['x-minimum-ms'];
    if (typeof minimumMs === 'number') {
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch {
        this.report(path, `is too long a duration, got ${this.got(path, value)}`);
        return;
      }
      if (ms < minimumMs) {
        const bound = minimumMs === 1 ? 'longer than 0s' : `at least ${formatDuration(minimumMs)}`;
        this.report(path, `must be ${bound}, got ${this.got(path, value)}`);
      }
    }
  }

  private checkNumber(schema: Schema, value: unknown, path: PathSegment[]): void {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (schema.type !== 'integer' || Number.isInteger(value)) &&
      !(typeof schema.minimum === 'number' && value < schema.minimum) &&
      !(typeof schema.maximum === 'number' && value > schema.maximum) &&
      !(typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) &&
      !(typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum);
    if (ok) return;
    const hint = typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? ': write it without quotes' : '';
    this.mismatch(schema, value, path, hint);
  }
}

function properties(schema: Schema): Record<string, Schema> {
  return (schema.properties ?? {}) as Record<string, Schema>;
}

/** The required keys of one branch that no other branch knows: what tells that branch apart. */
function distinguishingKeys(branch: Schema, branches: readonly Schema[]): string[] {
  const others = branches.filter((other) => other !== branch);
  return ((branch.required ?? []) as string[]).filter((key) => others.every((other) => !Object.hasOwn(properties(other), key)));
}

/** Whether a string meets a string schema's length and pattern (for propertyNames). */
function matchesString(schema: Schema, text: string): boolean {
  if (typeof schema.minLength === 'number' && text.length < schema.minLength) return false;
  if (typeof schema.maxLength === 'number' && text.length > schema.maxLength) return false;
  return typeof schema.pattern !== 'string' || cachedRegExp(schema.pattern).test(text);
}

const regexps = new Map<string, RegExp>();

function cachedRegExp(pattern: string): RegExp {
  let regexp = regexps.get(pattern);
  if (!regexp) {
    regexp = new RegExp(pattern, 'u');
    regexps.set(pattern, regexp);
  }
  return regexp;
}

/** What a schema accepts, in words: the phrase after "must be". */
export function expected(schema: Schema): string {
  if (typeof schema['x-expected'] === 'string') return schema['x-expected'];
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf as Schema[];
    if (branches.every((branch) => 'const' in branch)) {
      return `one of ${branches.map((branch) => String(branch.const)).join(', ')}`;
    }
    return branches.map(expected).join(' or ');
  }
  if ('const' in schema) return JSON.stringify(schema.const);
  switch (schema.type) {
    case 'integer':
      return `a whole number${range(schema)}`;
    case 'number':
      return `a number${range(schema)}`;
    case 'string': {
      const min = typeof schema.minLength === 'number' && schema.minLength > 0;
      const max = typeof schema.maxLength === 'number' ? ` of at most ${schema.maxLength} characters` : '';
      return `${min ? 'a non-empty string' : 'a string'}${max}`;
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return typeof schema.minProperties === 'number' && schema.minProperties > 0 ? 'a non-empty object' : 'an object';
    case 'null':
      return 'null';
    default:
      return 'a valid value';
  }
}

function range(schema: Schema): string {
  const low =
    typeof schema.minimum === 'number' ? `≥ ${schema.minimum}` : typeof schema.exclusiveMinimum === 'number' ? `> ${schema.exclusiveMinimum}` : '';
  const high =
    typeof schema.maximum === 'number' ? `≤ ${schema.maximum}` : typeof schema.exclusiveMaximum === 'number' ? `< ${schema.exclusiveMaximum}` : '';
  if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number') return ` from ${schema.minimum} to ${schema.maximum}`;
  if (low && high) return ` ${low} and ${high}`;
  return low || high ? ` ${low || high}` : '';
}
