/**
 * Which URLs Oleada may call for webhook channels and rollout hooks: those that start with one of the prefixes of
 * OLEADA_WEBHOOK_ALLOWED_URLS. The URL is normalised first (WHATWG parsing: case of the host, default port, dot
 * segments), so `HTTPS://Hooks.internal:443/a/../b` is judged as `https://hooks.internal/b`. A prefix should end in `/`:
 * `https://hooks.internal` would also allow `https://hooks.internal.example.com`. Pure.
 */
export function urlAllowed(url: string, prefixes: readonly string[]): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  // Credentials in a URL would end up in logs and errors; hook and webhook secrets are named by environment variable.
  if (parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const href = parsed.href;
  return prefixes.some((prefix) => URL.canParse(prefix) && href.startsWith(normalisePrefix(prefix)));
}

function normalisePrefix(prefix: string): string {
  const href = new URL(prefix).href;
  // new URL('https://a.internal').href adds a slash that the administrator did not write; keep their prefix as written.
  return prefix.endsWith('/') || !href.endsWith('/') ? href : href.slice(0, -1);
}

/** The sentence a refusal ends with: which setting to change, and what it holds now. */
export function allowListAdvice(prefixes: readonly string[]): string {
  return prefixes.length === 0
    ? 'no URL is allowed: the administrator must add its prefix to OLEADA_WEBHOOK_ALLOWED_URLS'
    : `allowed prefixes are ${prefixes.join(', ')}; the administrator must add this URL's prefix to OLEADA_WEBHOOK_ALLOWED_URLS`;
}
