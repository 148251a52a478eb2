/**
 * A URL fit to show or log: a password in it (http://user:secret@prometheus:9090) becomes `***`. Prometheus URLs come
 * from the clusters file and may carry basic-auth credentials, which must never reach a log line, an event or an
 * API response. Text that does not parse as a URL (a typo in the clusters file) may still hold credentials, so any
 * `//...@` in it is masked whole.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.replaceAll(/\/\/[^/?#]*@/g, '//***@');
  }
  if (url.password === '' && url.username === '') return text;
  if (url.password !== '') url.password = '***';
  else url.username = '***';
  return url.toString();
}
