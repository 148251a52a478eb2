import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registry } from '../../../src/metrics.ts';
import { services } from '../../support/services.ts';
import { ROOT } from './tools.ts';

const run = promisify(execFile);
const ALERTS = `${ROOT}deploy/prometheus/oleada-alerts.yaml`;
const ALERT_TESTS = `${ROOT}deploy/prometheus/oleada-alerts.test.yaml`;
const DASHBOARD = `${ROOT}deploy/grafana/oleada.json`;

// Metrics the dashboard and alerts already use but Oleada does not export yet: deliveries come with the
// notifications outbox (issue 16), which must export this counter with `channel` and `status` labels.
const PENDING_METRICS = new Set(['oleada_notification_deliveries_total']);

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query: unknown }[] };
}
interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const rules = parse(readFileSync(ALERTS, 'utf8')) as RuleFile;

/** Grafana's variables, replaced by what they stand for so that Prometheus can parse the expression. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$cluster', '.*');
}

const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: withoutGrafanaVariables(t.expr) })));
const variableExprs = dashboard.templating.list.flatMap((v) => {
  const query = (v.query as { query?: string } | undefined)?.query;
  // label_values(EXPR, label) is Grafana's; the series selector inside it is PromQL.
  const inner = query ? /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1] : undefined;
  return inner ? [{ where: `variable ${v.name}`, expr: inner }] : [];
});
const alertExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));

function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\boleada_[a-z_]+\b/g)].map((m) => m[0]);
}

async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(metric.name + suffix);
  }
  return names;
}

describe("Oleada's dashboard and alert rules", () => {
  it.each([...dashboardExprs, ...variableExprs, ...alertExprs].map((e) => [e.where, e.expr]))('%s: the test Prometheus parses its PromQL', async (_where, expr) => {
    const response = await fetch(`${services().prometheusUrl}/api/v1/format_query`, {
      method: 'POST',
      body: new URLSearchParams({ query: expr }),
    });
    const body = (await response.json()) as { status: string; error?: string };
    expect(body.error ?? body.status, expr).toBe('success');
  });

  it('uses only metrics that Oleada exports, and the deliveries counter that notifications will add', async () => {
    const known = await exported();
    const used = new Set([...dashboardExprs, ...variableExprs, ...alertExprs].flatMap((e) => metricNames(e.expr)));
    for (const name of used) expect(known.has(name) || PENDING_METRICS.has(name), `${name} is not exported by src/metrics.ts`).toBe(true);
    for (const name of PENDING_METRICS) expect(used).toContain(name);
  });

  it('shows every family the issue asks for: rollouts by phase, transitions, rollbacks, ticks, cluster and Prometheus latency, deliveries', () => {
    const byTitle = Object.fromEntries(dashboard.panels.filter((p) => p.targets).map((p) => [p.title, p.targets!.map((t) => t.expr).join('\n')]));
    const shown = (pattern: RegExp) => Object.keys(byTitle).filter((title) => pattern.test(byTitle[title]!));
    expect(shown(/oleada_rollouts_active/)).toContain('Active rollouts by phase');
    expect(shown(/oleada_rollout_transitions_total/)).toEqual(expect.arrayContaining(['Transitions per second', 'Rollbacks per minute']));
    expect(shown(/oleada_tick_lateness_seconds_bucket/)).toEqual(['Tick lateness']);
    expect(shown(/oleada_tick_duration_seconds_bucket/)).toEqual(['Tick duration']);
    expect(byTitle['Kubernetes API latency by cluster (p99)']).toMatch(/sum by \(cluster, le\)/);
    expect(byTitle['Prometheus query latency by cluster (p99)']).toMatch(/sum by \(cluster, le\)/);
    expect(byTitle['Deliveries by status']).toMatch(/sum by \(channel, status\)/);
  });

  it('alerts on a stuck rollout, growing tick lateness, analysis errors, an unreachable cluster and failing deliveries', () => {
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts).toEqual(
      expect.arrayContaining(['OleadaRolloutStuck', 'OleadaTickLatenessGrowing', 'OleadaAnalysisErrors', 'OleadaClusterUnreachable', 'OleadaDeliveriesFailing']),
    );
  });

  it('passes promtool check rules, and the alerts fire (and stay quiet) as their unit tests say', async () => {
    const check = await run('promtool', ['check', 'rules', ALERTS]).catch((err: { code?: string; stdout?: string; stderr?: string }) => {
      if (err.code === 'ENOENT') throw new Error("promtool is missing: it comes with Debian's prometheus package (scripts/services.sh installs it)");
      throw new Error(`promtool check rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tests = await run('promtool', ['test', 'rules', ALERT_TESTS]).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(tests.stdout).toContain('SUCCESS');
  });
});
