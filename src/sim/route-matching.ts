// Which rule of a route serves a simulated request, as the real data planes decide it. kube-sim's requests have no
// real paths: each distinct path/method/query part of a route's matches stands for one part of the app, a match on
// `PathPrefix /` (Gateway API) or with no uri/method/query (Istio) covers every part, and a request class spreads its
// requests evenly over the parts where some rule serves it. Within a part, headers decide:
// - HTTPRoute: the Gateway API precedence (exact path, longest prefix, method, most header matches, most query
//   matches, then rule order); headers match Exact (the default) or RegularExpression, names case-insensitively.
// - VirtualService: the first `http` entry with a matching `match` (no match at all matches everything); headers match
//   exact, prefix or regex; `withoutHeaders` must not match.
// Regular expressions match the whole value, as Envoy's safe_regex (used by Istio and most Gateway implementations) does.
import { isPlainObject } from './objects.ts';

type Json = Record<string, unknown>;

/** A request's headers, names in lower case. */
export type RequestHeaders = Record<string, string>;

const CATCH_ALL = '*';

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

const regexCache = new Map<string, RegExp | null>();

/** Whole-value match; an invalid expression matches nothing (the data plane would have rejected the route). */
function fullMatch(pattern: string, value: string): boolean {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re !== null && re.test(value);
}

/** A stable text for a match's non-header part, with keys sorted, so equal parts compare equal. */
function partKey(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isPlainObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

interface Candidate {
  rule: number;
  part: string;
  /** Sort key by precedence, best first (Gateway API); the entry's index for Istio. */
  rank: number[];
  matchesHeaders: (headers: RequestHeaders) => boolean;
}

/**
 * For each part of the app that requests with `headers` reach, the rule that serves them: one index into `rules` per
 * part (a rule serving two parts appears twice). Empty when no rule serves these requests (the gateway answers 404).
 */
function choose(candidates: Candidate[], headers: RequestHeaders): number[] {
  const parts = new Set(candidates.map((c) => c.part));
  const chosen: number[] = [];
  for (const part of parts) {
    let best: Candidate | undefined;
    for (const c of candidates) {
      if (c.part !== part && c.part !== CATCH_ALL) continue;
      if (!c.matchesHeaders(headers)) continue;
      if (!best || compareRanks(c.rank, best.rank) < 0) best = c;
    }
    if (best) chosen.push(best.rule);
  }
  return chosen;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The rules of an HTTPRoute (its `spec.rules`) that serve requests with these headers, one per part of the app. */
export function httpRouteRules(rules: Json[], headers: RequestHeaders): number[] {
  const candidates: Candidate[] = [];
  rules.forEach((rule, index) => {
    const matches = list(rule.matches);
    (matches.length > 0 ? matches : [{}]).forEach((match, m) => {
      const path = isPlainObject(match.path) ? match.path : {};
      const type = typeof path.type === 'string' ? path.type : 'PathPrefix';
      const value = typeof path.value === 'string' ? path.value : '/';
      const queries = list(match.queryParams);
      const method = typeof match.method === 'string' ? match.method : undefined;
      const catchAll = type === 'PathPrefix' && (value === '/' || value === '') && method === undefined && queries.length === 0;
      const wanted = list(match.headers);
      candidates.push({
        rule: index,
        part: catchAll ? CATCH_ALL : partKey({ type, value, method, queries }),
        // Gateway API precedence, best first: exact path, longest prefix, method, most headers, most queries, order.
        rank: [type === 'Exact' ? 0 : 1, -value.length, method === undefined ? 1 : 0, -wanted.length, -queries.length, index, m],
        matchesHeaders: (request) =>
          wanted.every((h) => {
            const actual = request[String(h.name ?? '').toLowerCase()];
            if (actual === undefined) return false;
            const expected = String(h.value ?? '');
            return h.type === 'RegularExpression' ? fullMatch(expected, actual) : actual === expected;
          }),
      });
    });
  });
  return choose(candidates, headers);
}

function istioStringMatch(spec: unknown, actual: string | undefined): boolean {
  if (actual === undefined || !isPlainObject(spec)) return false;
  if (typeof spec.exact === 'string') return actual === spec.exact;
  if (typeof spec.prefix === 'string') return actual.startsWith(spec.prefix);
  if (typeof spec.regex === 'string') return fullMatch(spec.regex, actual);
  return true; // an empty StringMatch asks only that the header be present
}

/** The entries of a VirtualService (its `spec.http`) that serve requests with these headers, one per part of the app. */
export function virtualServiceEntries(http: Json[], headers: RequestHeaders): number[] {
  const candidates: Candidate[] = [];
  http.forEach((entry, index) => {
    const matches = list(entry.match);
    (matches.length > 0 ? matches : [{}]).forEach((match) => {
      const { headers: wanted, withoutHeaders, name: _name, ...rest } = match;
      const uri = isPlainObject(rest.uri) ? rest.uri : undefined;
      const others = Object.keys(rest).filter((k) => k !== 'uri');
      const catchAll = others.length === 0 && (uri === undefined || uri.prefix === '/');
      const required = isPlainObject(wanted) ? Object.entries(wanted) : [];
      const refused = isPlainObject(withoutHeaders) ? Object.entries(withoutHeaders) : [];
      candidates.push({
        rule: index,
        part: catchAll ? CATCH_ALL : partKey(rest),
        rank: [index],
        matchesHeaders: (request) =>
          required.every(([name, spec]) => istioStringMatch(spec, request[name.toLowerCase()])) &&
          !refused.some(([name, spec]) => istioStringMatch(spec, request[name.toLowerCase()])),
      });
    });
  });
  return choose(candidates, headers);
}
