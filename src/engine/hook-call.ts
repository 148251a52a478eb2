/**
 * Calling the rollout file's hooks for a tick: a JSON POST signed as Standard Webhooks specify (the `standardwebhooks`
 * package, with OLEADA_HOOK_SIGNING_SECRET), bounded by the hook's timeout so that it never holds a tick longer. The
 * answer (status, duration, the start of its body) goes back to decide through recordHookAnswers.
 */
import { Webhook } from 'standardwebhooks';
import { toError } from '../errors.ts';
import { urlAllowed } from '../model/url-allow-list.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import type { PlanHook } from '../spec/hooks.ts';
import type { HookAnswer, HookCall } from './decide.ts';

/** How much of an answer's body is kept for its event. */
const BODY_KEPT = 200;
/** How much of an answer's body is read at most; the rest is dropped unread. */
const BODY_READ = 4096;

export interface HookCallerOptions {
  /** OLEADA_HOOK_SIGNING_SECRET; undefined: every call fails, saying so. */
  secret: string | undefined;
  /** OLEADA_WEBHOOK_ALLOWED_URLS, checked again before each call: the list may have shrunk since the rollout began. */
  allowedUrls: readonly string[];
  userAgent?: string;
}

export type HookCaller = (record: Pick<RolloutRecord, 'id' | 'plan' | 'state'>, calls: readonly HookCall[]) => Promise<HookAnswer[]>;

/** The body of a call: the envelope of Oleada's webhooks, with what Flagger sends (name, namespace, phase, metadata). */
export function hookBody(record: Pick<RolloutRecord, 'id' | 'plan' | 'state'>, hook: PlanHook, call: HookCall, at: Date): Record<string, unknown> {
  const { plan, state } = record;
  const cluster = state.clusters[call.cluster];
  return {
    type: `hook.${hook.type}`,
    timestamp: at.toISOString(),
    data: {
      rolloutId: record.id,
      app: plan.app,
      name: plan.workload.name,
      namespace: plan.namespace,
      version: plan.version,
      image: plan.image,
      cluster: call.cluster,
      wave: cluster ? (plan.waves[cluster.wave]?.name ?? null) : null,
      hook: { name: hook.name, type: hook.type },
      phase: cluster?.phase ?? null,
      rolloutPhase: state.phase,
      step: cluster?.step ?? null,
      weight: cluster?.actualWeight ?? null,
      metadata: hook.metadata,
    },
  };
}

export function createHookCaller(options: HookCallerOptions): HookCaller {
  let signer: Webhook | undefined;
  let signerProblem: string | null = null;
  if (options.secret === undefined) signerProblem = 'OLEADA_HOOK_SIGNING_SECRET is not set on this worker, so the call cannot be signed';
  else {
    try {
      signer = new Webhook(options.secret);
    } catch {
      // The library's message could quote the secret; say only where it came from.
      signerProblem = 'OLEADA_HOOK_SIGNING_SECRET is not a Standard Webhooks secret (whsec_ and base64)';
    }
  }

  async function callOne(record: Pick<RolloutRecord, 'id' | 'plan' | 'state'>, call: HookCall): Promise<HookAnswer> {
    const hook = record.plan.hooks?.find((h) => h.name === call.hook);
    const failed = (error: string): HookAnswer => ({ call, status: null, durationMs: 0, body: '', error });
    if (!hook) return failed(`the rollout has no hook named ${call.hook}`);
    if (!signer) return failed(signerProblem ?? 'no signer');
    if (!urlAllowed(hook.url, options.allowedUrls)) {
      return failed('its URL is no longer allowed by OLEADA_WEBHOOK_ALLOWED_URLS; the administrator must add its prefix back');
    }
    const at = new Date();
    const id = `hook_${record.id}_${call.cluster}_${hook.name}_${(record.state.clusters[call.cluster]?.hooks?.[hook.name]?.calls ?? 0) + 1}`;
    const body = JSON.stringify(hookBody(record, hook, call, at));
    const started = performance.now();
    const signal = AbortSignal.timeout(hook.timeoutMs);
    try {
      // A redirect could lead outside the URL allow-list, so it is an answer (not 2xx) rather than followed.
      const response = await fetch(hook.url, {
        method: 'POST',
        redirect: 'manual',
        signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'oleada',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signer.sign(id, at, body),
        },
        body,
      });
      const text = await readStart(response).catch(() => '');
      return { call, status: response.status, durationMs: Math.round(performance.now() - started), body: trimmed(text), error: null };
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      // A timeout is "no answer" (null error): the event says within how long.
      if (signal.aborted) return { call, status: null, durationMs, body: '', error: null };
      const error = toError(err);
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return { call, status: null, durationMs, body: '', error: `${error.message}${cause}` };
    }
  }

  return (record, calls) => Promise.all(calls.map((call) => callOne(record, call)));
}

/** The first BODY_READ bytes of an answer as text; the rest is not read. */
async function readStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_READ) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, BODY_READ));
}

function trimmed(text: string): string {
  const oneLine = text.replaceAll(/\s+/g, ' ').trim();
  return oneLine.length > BODY_KEPT ? `${oneLine.slice(0, BODY_KEPT)}…` : oneLine;
}
