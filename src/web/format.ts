/** Words and symbols for states: every state is named in text, with a symbol, never by colour alone. */
import type { ClusterPhase, Phase, Verdict, WaveStatus } from './types.ts';

export const PHASES: Record<Phase, { label: string; symbol: string; tone: Tone }> = {
  pending: { label: 'Pending', symbol: '○', tone: 'quiet' },
  progressing: { label: 'Progressing', symbol: '▶', tone: 'info' },
  paused: { label: 'Paused', symbol: '⏸', tone: 'attention' },
  awaiting_approval: { label: 'Waiting for approval', symbol: '✋', tone: 'attention' },
  rolling_back: { label: 'Rolling back', symbol: '↺', tone: 'danger' },
  succeeded: { label: 'Succeeded', symbol: '✓', tone: 'good' },
  rolled_back: { label: 'Rolled back', symbol: '↺', tone: 'danger' },
  aborted: { label: 'Aborted', symbol: '■', tone: 'danger' },
  failed: { label: 'Failed', symbol: '✕', tone: 'danger' },
};

export const CLUSTER_STATES: Record<ClusterPhase, { label: string; symbol: string; tone: Tone }> = {
  pending: { label: 'Pending', symbol: '○', tone: 'quiet' },
  canary: { label: 'Canary', symbol: '◐', tone: 'info' },
  promoting: { label: 'Promoting', symbol: '▲', tone: 'info' },
  promoted: { label: 'Promoted', symbol: '✓', tone: 'good' },
  rolling_back: { label: 'Rolling back', symbol: '↺', tone: 'danger' },
  rolled_back: { label: 'Rolled back', symbol: '↺', tone: 'danger' },
  failed: { label: 'Failed', symbol: '✕', tone: 'danger' },
};

export const WAVE_STATES: Record<WaveStatus, { label: string; symbol: string; tone: Tone }> = {
  pending: { label: 'Pending', symbol: '○', tone: 'quiet' },
  awaiting_approval: { label: 'Waiting for approval', symbol: '✋', tone: 'attention' },
  running: { label: 'Running', symbol: '▶', tone: 'info' },
  baking: { label: 'Baking', symbol: '⧗', tone: 'info' },
  succeeded: { label: 'Succeeded', symbol: '✓', tone: 'good' },
  rolled_back: { label: 'Rolled back', symbol: '↺', tone: 'danger' },
};

export const VERDICTS: Record<Verdict, { label: string; symbol: string; tone: Tone }> = {
  successful: { label: 'Passed', symbol: '✓', tone: 'good' },
  failed: { label: 'Failed', symbol: '✕', tone: 'danger' },
  inconclusive: { label: 'Inconclusive', symbol: '?', tone: 'attention' },
  error: { label: 'Error', symbol: '!', tone: 'danger' },
};

export type Tone = 'quiet' | 'info' | 'attention' | 'danger' | 'good';

/** "3 m 05 s" for a countdown; "now" once it is over. */
export function countdown(untilIso: string, now: number): string {
  const ms = Date.parse(untilIso) - now;
  if (!(ms > 0)) return 'now';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** A time as the reader's clock shows it, with the date only when it is not today. */
export function when(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

export function formatValue(value: number | null): string {
  if (value === null) return 'no data';
  if (value !== 0 && Math.abs(value) < 0.001) return value.toExponential(2);
  return String(Math.round(value * 10_000) / 10_000);
}
