/** One Server-Sent Events message, as the streams of live/ write it. */
export function formatSseEvent(fields: { id?: string | number; event?: string; data: unknown }): string {
  let text = '';
  if (fields.id !== undefined) text += `id: ${fields.id}\n`;
  if (fields.event !== undefined) text += `event: ${fields.event}\n`;
  // JSON.stringify never emits a raw newline, so one data line carries the whole payload.
  text += `data: ${JSON.stringify(fields.data)}\n\n`;
  return text;
}
