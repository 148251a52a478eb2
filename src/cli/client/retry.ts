/**
 * Commands sent so that retrying them is safe: each gets a fresh Idempotency-Key, reused on every retry of that one
 * command, so an answer lost on the way back (a proxy's 502, a dropped connection) never makes a promote happen twice.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, type ApiClient, type ApiResponse, type RequestBody } from './http.ts';

export interface RetryOptions {
  attempts?: number;
  /** Before the second attempt; doubled for each one after. */
  firstDelayMs?: number;
  /** The key to send; default: a fresh UUID. */
  idempotencyKey?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function worthRetrying(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  // The first copy of this very request is still running on the server: its answer is coming.
  return err.retryable || (err.status === 409 && err.problem.code === 'idempotency_in_progress');
}

export async function sendCommand<T>(
  client: ApiClient,
  method: string,
  path: string,
  init: { body?: RequestBody; headers?: Record<string, string> },
  options: RetryOptions = {},
): Promise<ApiResponse<T>> {
  const key = options.idempotencyKey ?? randomUUID();
  const attempts = options.attempts ?? 4;
  let delay = options.firstDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.request<T>(method, path, { ...init, headers: { ...init.headers, 'idempotency-key': key } });
    } catch (err) {
      if (attempt >= attempts || !worthRetrying(err)) throw err;
      await sleep(delay);
      delay *= 2;
    }
  }
}
