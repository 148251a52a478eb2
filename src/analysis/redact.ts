/**
 * A URL fit to show or log: a password in it (http://user:secret@prometheus:9090) becomes `***`. Prometheus URLs come
 * from the clusters file and may carry basic-auth credentials, which must never reach a log line, an event or an
 * API response. Text that is not a URL is returned unchanged, as there is nothing in it to find.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.password === '' && url.username === '') return text;
  if (url.password !== '') url.password = '***';
  else url.username = '***';
  return url.toString();
}
