/**
 * Durations as rollout and clusters files write them: whole numbers with a unit, largest unit first, each unit at
 * most once: `500ms`, `30s`, `5m`, `1h`, `1m30s`, `1d12h`. Units are d (24h), h, m, s and ms.
 *
 * Fractions (`1.5h`) and bare numbers are refused on purpose: a bare `30` in a file is ambiguous (seconds, as Argo
 * Rollouts reads it, or milliseconds?), and saying so is cheaper than a rollout that pauses a thousand times too long.
 */

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

/** The grammar above as a regular expression; the schemas reuse it so that JSON Schema and this module agree. */
export const DURATION_PATTERN = '^(?=\\d)(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m(?!s))?(?:(\\d+)s)?(?:(\\d+)ms)?$';

const DURATION = new RegExp(DURATION_PATTERN);

/** What a duration looks like, for error messages. */
export const DURATION_EXPECTED = 'a duration such as 500ms, 30s, 5m, 1h or 1m30s';

/** Parses a duration into milliseconds. Throws a RangeError, naming the expected form, on anything else. */
export function parseDuration(text: string): number {
  const match = typeof text === 'string' ? DURATION.exec(text) : null;
  if (!match) throw new RangeError(`expected ${DURATION_EXPECTED}, got ${JSON.stringify(text)}`);
  let total = 0;
  UNITS.forEach(([, factor], index) => {
    const digits = match[index + 1];
    if (digits !== undefined) total += Number(digits) * factor;
  });
  // Enough digits make the sum inexact; a duration of 285,000 years is a typo, not a plan.
  if (!Number.isSafeInteger(total)) throw new RangeError(`duration ${JSON.stringify(text)} is too long`);
  return total;
}

/**
 * Formats milliseconds the way a person would write them (`1m30s`, `36h`, `500ms`, `0s`); `parseDuration` reads the
 * result back exactly. Hours are the largest unit because `36h` reads more easily in a status line than `1d12h`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`a duration must be a whole, non-negative number of milliseconds, got ${ms}`);
  }
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, factor] of UNITS) {
    if (unit === 'd') continue;
    const count = Math.floor(rest / factor);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * factor;
    }
  }
  return text;
}

/**
 * The duration as PromQL writes it, for the `{{window}}` of a range selector (`rate(x[{{window}}])`). Prometheus has
 * read compound durations such as `1m30s` since 2.26, and a range of zero is an error there, so zero is refused here.
 */
export function toPromDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new RangeError(`a PromQL range must be a whole, positive number of milliseconds, got ${ms}`);
  }
  return formatDuration(ms);
}
