/*
 * Label selectors in their string form (`app=checkout,tier in (web,api),!legacy`), matched in memory: a list served
 * from a watch cache must select what the API server's labelSelector parameter would have.
 */

type Requirement =
  | { key: string; op: 'in'; values: Set<string> }
  | { key: string; op: 'notin'; values: Set<string> }
  | { key: string; op: 'exists' }
  | { key: string; op: '!exists' };

const SET = /^([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)$/;
const EQUAL = /^([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)$/;
const EXISTS = /^(!?)([^\s!=,()]+)$/;

/** Parses a selector string; throws a RangeError naming the term it cannot read. */
export function parseSelector(selector: string): Requirement[] {
  const requirements: Requirement[] = [];
  for (const raw of splitTerms(selector)) {
    const term = raw.trim();
    if (term === '') continue;
    let match = SET.exec(term);
    if (match) {
      const values = new Set(match[3]!.split(',').map((v) => v.trim()));
      requirements.push({ key: match[1]!, op: match[2] as 'in' | 'notin', values });
      continue;
    }
    match = EQUAL.exec(term);
    if (match) {
      requirements.push({ key: match[1]!, op: match[2] === '!=' ? 'notin' : 'in', values: new Set([match[3]!]) });
      continue;
    }
    match = EXISTS.exec(term);
    if (match) {
      requirements.push({ key: match[2]!, op: match[1] ? '!exists' : 'exists' });
      continue;
    }
    throw new RangeError(`cannot read the label selector term ${JSON.stringify(term)} in ${JSON.stringify(selector)}`);
  }
  return requirements;
}

/** Whether labels satisfy every requirement, with the API server's meaning (notin and != also match a missing key). */
export function matchesSelector(labels: Record<string, string> | undefined, requirements: readonly Requirement[]): boolean {
  return requirements.every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'in':
        return value !== undefined && r.values.has(value);
      case 'notin':
        return value === undefined || !r.values.has(value);
      case 'exists':
        return value !== undefined;
      case '!exists':
        return value === undefined;
    }
  });
}

/** Splits on commas outside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}
