// Label selectors (equality- and set-based, as `kubectl -l` and client libraries write them) and field selectors.
import { badRequest } from './errors.ts';
import { assertNever, getPath, isPlainObject, type KubeObject } from './objects.ts';

export type Operator = 'exists' | 'notexists' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** A parsed selector: every requirement must hold. An empty selector matches everything. */
export type LabelSelector = Requirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

export function isValidLabelKey(key: string): boolean {
  return key.length <= 317 && KEY.test(key);
}

export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && VALUE.test(value);
}

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
    } else if (ch === '!' && input[i + 1] === '=') {
      tokens.push({ kind: 'op', text: '!=' });
      i += 2;
    } else if (ch === '=' && input[i + 1] === '=') {
      tokens.push({ kind: 'op', text: '==' });
      i += 2;
    } else if ('=!(),<>'.includes(ch)) {
      tokens.push({ kind: 'op', text: ch });
      i++;
    } else {
      let j = i;
      while (j < input.length && !' \t=!(),<>'.includes(input[j]!)) j++;
      tokens.push({ kind: 'word', text: input.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** Parses the `labelSelector` query parameter. Throws a 400 BadRequest, as the API server does, on bad syntax. */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = tokenize(input);
  const requirements: Requirement[] = [];
  let pos = 0;
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why} in label selector "${input}"`);
  };
  const peek = () => tokens[pos];
  const word = (): string => {
    const token = tokens[pos++];
    if (!token || token.kind !== 'word') return fail(`expected a key or value at position ${pos}`);
    return token.text;
  };
  const checkKey = (key: string) => {
    if (!isValidLabelKey(key)) fail(`invalid label key "${key}"`);
  };
  const checkValue = (value: string) => {
    if (!isValidLabelValue(value)) fail(`invalid label value "${value}"`);
  };

  while (pos < tokens.length) {
    const first = peek()!;
    if (first.kind === 'op' && first.text === '!') {
      pos++;
      const key = word();
      checkKey(key);
      requirements.push({ key, operator: 'notexists', values: [] });
    } else {
      const key = word();
      checkKey(key);
      const next = peek();
      if (!next || (next.kind === 'op' && next.text === ',')) {
        requirements.push({ key, operator: 'exists', values: [] });
      } else if (next.kind === 'op' && ['=', '==', '!='].includes(next.text)) {
        pos++;
        // An empty value (`app=`) is legal and matches the empty string.
        const after = peek();
        const value = after && after.kind === 'word' ? word() : '';
        checkValue(value);
        requirements.push({ key, operator: next.text === '!=' ? 'notin' : 'in', values: [value] });
      } else if (next.kind === 'op' && (next.text === '<' || next.text === '>')) {
        pos++;
        const value = word();
        if (!/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
        requirements.push({ key, operator: next.text === '>' ? 'gt' : 'lt', values: [value] });
      } else if (next.kind === 'word' && (next.text === 'in' || next.text === 'notin')) {
        pos++;
        const open = tokens[pos++];
        if (!open || open.text !== '(') fail(`expected "(" after "${next.text}"`);
        const values: string[] = [];
        for (;;) {
          const token = tokens[pos];
          if (!token) fail('missing ")"');
          if (token!.kind === 'op' && token!.text === ')') {
            pos++;
            break;
          }
          if (token!.kind === 'op' && token!.text === ',') {
            pos++;
            continue;
          }
          const value = word();
          checkValue(value);
          values.push(value);
        }
        if (values.length === 0) fail(`for 'in', 'notin' operators, values set can't be empty`);
        requirements.push({ key, operator: next.text, values });
      } else {
        fail(`found '${next.text}', expected: '=', '!=', '==', 'in', notin'`);
      }
    }
    const sep = peek();
    if (sep) {
      if (sep.kind !== 'op' || sep.text !== ',') fail(`found '${sep.text}', expected: ','`);
      pos++;
    }
  }
  return requirements;
}

/** Converts a LabelSelector object (spec.selector of a Deployment) into requirements. */
export function fromLabelSelectorObject(selector: unknown): LabelSelector {
  if (!isPlainObject(selector)) return [];
  const requirements: Requirement[] = [];
  const matchLabels = selector.matchLabels;
  if (isPlainObject(matchLabels)) {
    for (const [key, value] of Object.entries(matchLabels)) requirements.push({ key, operator: 'in', values: [String(value)] });
  }
  const expressions = selector.matchExpressions;
  if (Array.isArray(expressions)) {
    for (const expr of expressions) {
      if (!isPlainObject(expr) || typeof expr.key !== 'string') continue;
      const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
      const op = String(expr.operator);
      const operator: Operator | undefined = op === 'In' ? 'in' : op === 'NotIn' ? 'notin' : op === 'Exists' ? 'exists' : op === 'DoesNotExist' ? 'notexists' : undefined;
      if (operator) requirements.push({ key: expr.key, operator, values });
    }
  }
  return requirements;
}

/** A selector object that selects nothing when empty, unlike a query-parameter selector (Deployment semantics). */
export function isEmptyLabelSelectorObject(selector: unknown): boolean {
  return fromLabelSelectorObject(selector).length === 0;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const req of selector) {
    const value = labels?.[req.key];
    switch (req.operator) {
      case 'exists':
        if (value === undefined) return false;
        break;
      case 'notexists':
        if (value !== undefined) return false;
        break;
      case 'in':
        if (value === undefined || !req.values.includes(value)) return false;
        break;
      case 'notin':
        if (value !== undefined && req.values.includes(value)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        const n = Number(value);
        const bound = Number(req.values[0]);
        if (req.operator === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
      default:
        return assertNever(req.operator);
    }
  }
  return true;
}

/** `app=checkout,version in (1.0.0)` as kubectl shows a selector and as the scale subresource reports it. */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector
    .map((req) => {
      switch (req.operator) {
        case 'exists':
          return req.key;
        case 'notexists':
          return `!${req.key}`;
        case 'in':
          return req.values.length === 1 ? `${req.key}=${req.values[0]}` : `${req.key} in (${[...req.values].sort().join(',')})`;
        case 'notin':
          return req.values.length === 1 ? `${req.key}!=${req.values[0]}` : `${req.key} notin (${[...req.values].sort().join(',')})`;
        case 'gt':
          return `${req.key}>${req.values[0]}`;
        case 'lt':
          return `${req.key}<${req.values[0]}`;
        default:
          return assertNever(req.operator);
      }
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  equals: boolean;
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Parses `fieldSelector`, checking every field against the ones the resource supports. */
export function parseFieldSelector(input: string, supported: readonly string[]): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const part of input.split(',')) {
    const term = part.trim();
    if (term === '') continue;
    const match = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = match[1]!;
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    requirements.push({ field, equals: match[2] !== '!=', value: match[3]! });
  }
  return requirements;
}

export function matchesFields(selector: FieldSelector, obj: KubeObject): boolean {
  for (const req of selector) {
    const raw = getPath(obj, req.field.split('.'));
    const value = raw === undefined || raw === null ? '' : String(raw);
    if ((value === req.value) !== req.equals) return false;
  }
  return true;
}
