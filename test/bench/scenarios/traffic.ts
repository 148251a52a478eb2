import { loadavg } from 'node:os';
import { row, type Row } from '../lib/report.ts';
import type { BenchContext, Scenario } from '../lib/scenario.ts';
import { measure } from './command.ts';

const COMMANDS_EACH = 30;
const QUICK_COMMANDS_EACH = 10;
const TARGET_P99_MS = 250;
/** The diagnosis pass's client-side rate limit: far above what these few rollouts ask for (as in the command scenario). */
const DIAGNOSIS_QPS = { qps: 1_000, burst: 2_000 };

/**
 * Command reaction on a routed rollout: the command scenario's measurement (ten apps at an untimed pause, then abort
 * or promote, one at a time) on the gateway-api provider, from the POST to the command's first write of the app's
 * HTTPRoute in kube-sim's audit, beside the same measurement on replicas in the same run as the baseline.
 *
 * Abort's first write is the route (all traffic back to the stable). Promote first sizes the canary for 100% and writes
 * the route once those pods are ready (Argo Rollouts' order: never route to pods that are not there), so its route
 * figure includes simulated pod start-up; its first write is the reaction to the command.
 */
export const trafficScenario: Scenario = {
  name: 'traffic',
  summary: `POST abort / promote on gateway-api -> HTTPRoute write seen by kube-sim, ${COMMANDS_EACH} of each, beside replicas`,
  async run(ctx: BenchContext) {
    const each = ctx.quick ? QUICK_COMMANDS_EACH : COMMANDS_EACH;
    const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
    const loadBefore = load();
    const replicas = await measure(ctx, each, 'traffic: replicas', { provider: 'replicas' });
    const gateway = await measure(ctx, each, 'traffic: gateway-api', { provider: 'gateway-api' });
    // A second gateway-api pass with only the clusters file's rate limit raised shows how much of the first pass's time
    // is spent waiting for rate-limit tokens (an abort makes six reads before its route write; commands draw on the
    // bucket's reserve, src/clusters/client.ts urgentReserve).
    const diagnosis = ctx.quick ? undefined : await measure(ctx, each, `traffic: gateway-api, qps ${DIAGNOSIS_QPS.qps}`, { provider: 'gateway-api', qps: DIAGNOSIS_QPS });
    const loadAfter = load();
    const rows: Row[] = [];
    const base = { scenario: 'traffic', unit: 'ms' };
    for (const type of ['abort', 'promote'] as const) {
      const r = replicas.figures[type]!;
      const g = gateway.figures[type]!;
      const baseline = { figure: `replicas ${type} → first K8s write p99`, value: r.toWrite.p99, unit: 'ms' };
      rows.push(
        row({ ...base, figure: `gateway-api ${type} → first K8s write p50 (${g.toWrite.n})`, value: g.toWrite.p50 }),
        row({ ...base, figure: `gateway-api ${type} → first K8s write p99`, value: g.toWrite.p99, baseline, ...(type === 'promote' && { target: { op: '<' as const, value: TARGET_P99_MS } }) }),
        row({ ...base, figure: `gateway-api ${type} → HTTPRoute write p50`, value: g.toRoute!.p50 }),
        row({
          ...base,
          figure: `gateway-api ${type} → HTTPRoute write p99`,
          value: g.toRoute!.p99,
          baseline,
          ...(type === 'abort' && { target: { op: '<' as const, value: TARGET_P99_MS } }),
          ...(type === 'promote' && { note: 'after the canary is sized for 100% and ready (simulated pod start-up, time scale 10)' }),
        }),
        row({ ...base, figure: `replicas ${type} → first K8s write p99 (baseline, ${r.toWrite.n})`, value: r.toWrite.p99 }),
      );
      if (diagnosis) {
        rows.push(row({ ...base, figure: `gateway-api ${type} → HTTPRoute write p99 [diagnosis: qps ${DIAGNOSIS_QPS.qps}]`, value: diagnosis.figures[type]!.toRoute!.p99 }));
      }
    }
    ctx.log(`traffic: load average before ${loadBefore}, after ${loadAfter}`);
    return {
      rows,
      details: { loadBefore, loadAfter, replicas: replicas.figures, gateway: gateway.figures, diagnosis: diagnosis?.figures, samples: { replicas: replicas.samples, gateway: gateway.samples } },
    };
  },
};
