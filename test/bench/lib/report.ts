import { writeFile } from 'node:fs/promises';
import type { Machine } from './machine.ts';

export type Comparison = '<' | '<=' | '>=' | '>';

export interface Target {
  op: Comparison;
  value: number;
  /** How the target reads in the table when it is not just `op value unit` (for example "≥ 50% of baseline"). */
  text?: string;
}

/** One line of the results table: a measured figure, its target and verdict, and its ratio to a same-run baseline. */
export interface Row {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  target?: Target;
  /** Set from target and value by `row()`; absent when the figure has no target. */
  pass?: boolean;
  baseline?: { figure: string; value: number; unit: string };
  /** value / baseline.value. */
  ratio?: number;
  note?: string;
}

export function row(input: Omit<Row, 'pass' | 'ratio'>): Row {
  const out: Row = { ...input };
  if (input.target) out.pass = compare(input.value, input.target);
  if (input.baseline && input.baseline.value !== 0 && Number.isFinite(input.baseline.value)) {
    out.ratio = input.value / input.baseline.value;
  }
  return out;
}

function compare(value: number, target: Target): boolean {
  if (!Number.isFinite(value)) return false;
  switch (target.op) {
    case '<':
      return value < target.value;
    case '<=':
      return value <= target.value;
    case '>=':
      return value >= target.value;
    case '>':
      return value > target.value;
  }
}

export function formatNumber(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : abs === 0 ? 0 : 3;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit ? `${text} ${unit}` : text;
}

function targetText(r: Row): string {
  if (!r.target) return '';
  return r.target.text ?? `${r.target.op} ${formatNumber(r.target.value, r.unit)}`;
}

function ratioText(r: Row): string {
  if (r.ratio === undefined || !r.baseline) return '';
  return `${formatNumber(r.ratio)}× of ${r.baseline.figure} (${formatNumber(r.baseline.value, r.baseline.unit)})`;
}

/** The table as printed: one line per row, columns padded to the widest cell. */
export function formatTable(rows: Row[]): string {
  const header = ['scenario', 'figure', 'value', 'target', 'result', 'vs baseline (same run)'];
  const cells = rows.map((r) => [
    r.scenario,
    r.figure,
    formatNumber(r.value, r.unit),
    targetText(r),
    r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL',
    ratioText(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export interface ScenarioResult {
  name: string;
  rows: Row[];
  /** Raw measurements and settings, for whoever wants to look closer than the table. */
  details: Record<string, unknown>;
  /** Set when the scenario could not run to the end; its rows are what it measured before. */
  error?: string;
  seconds: number;
}

export interface Results {
  machine: Machine;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  scenarios: ScenarioResult[];
}

export async function writeResults(path: string, results: Results): Promise<void> {
  await writeFile(path, `${JSON.stringify(results, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}
