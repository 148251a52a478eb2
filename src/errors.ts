/** Turns any thrown value into an Error, keeping the original as `cause` when it was not one already. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  const message = typeof value === 'string' ? value : safeStringify(value);
  return new Error(message, { cause: value });
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * An error that carries what a caller needs: the HTTP status it maps to, a stable code, a message that says what to
 * do next, and details. The API turns it into problem+json; nothing else knows about HTTP.
 */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
