/**
 * The text after `/oleada`: which sub-command, on which rollout, with which arguments. Pure: the route does the work.
 * A word that is not a sub-command gets the help text and the sub-command it is closest to, since a typo in chat is
 * far likelier than a new command.
 */
import type { CommandArgs, CommandType } from '../model/commands.ts';

export interface SubCommandHelp {
  name: string;
  usage: string;
  summary: string;
}

export const SUB_COMMANDS: readonly SubCommandHelp[] = [
  { name: 'help', usage: 'help', summary: 'this text' },
  { name: 'list', usage: 'list', summary: 'the active rollouts' },
  { name: 'status', usage: 'status <app|id>', summary: "a rollout's phase, waves and clusters" },
  { name: 'approve', usage: 'approve <app|id> [wave]', summary: 'open the wave that waits for approval' },
  { name: 'promote', usage: 'promote <app|id> [cluster] [--full]', summary: 'end the pause of a cluster (--full: skip every remaining step)' },
  { name: 'pause', usage: 'pause <app|id> [reason]', summary: 'hold the rollout where it is' },
  { name: 'resume', usage: 'resume <app|id> [reason]', summary: 'carry on after a pause' },
  { name: 'abort', usage: 'abort <app|id> [reason]', summary: 'roll back everywhere and end as aborted' },
];

/** A rollout named in chat: an app (its active rollout) or a rollout id. */
export type Target = string;

export type SlashCommand =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'status'; target: Target }
  | { kind: 'command'; type: CommandType; target: Target; args: CommandArgs; reason: string | null }
  | { kind: 'invalid'; message: string };

const NAME = /^[A-Za-z0-9._-]{1,253}$/;
const MAX_REASON = 1000;

export function helpText(): string {
  const width = Math.max(...SUB_COMMANDS.map((c) => c.usage.length));
  const lines = SUB_COMMANDS.map((c) => `/oleada ${c.usage.padEnd(width)}  ${c.summary}`);
  return ['```', ...lines, '```', 'An app name means its active rollout.'].join('\n');
}

function usageOf(name: string): string {
  return `/oleada ${SUB_COMMANDS.find((c) => c.name === name)?.usage ?? name}`;
}

/** Levenshtein distance, small strings only (sub-command names and one word of chat). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The sub-command closest to `word`, or undefined when none is close enough to be what was meant. */
export function closestSubCommand(word: string): string | undefined {
  const lower = word.toLowerCase().slice(0, 40);
  let best: { name: string; score: number } | undefined;
  for (const { name } of SUB_COMMANDS) {
    const score = distance(lower, name);
    if (!best || score < best.score) best = { name, score };
  }
  return best && best.score <= Math.max(2, Math.floor(best.name.length / 2)) ? best.name : undefined;
}

function invalid(message: string): SlashCommand {
  return { kind: 'invalid', message };
}

export function parseSlashCommand(text: string): SlashCommand {
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  const [first, ...rest] = words;
  if (first === undefined) return { kind: 'help' };
  const sub = first.toLowerCase();
  if (sub === 'help') return { kind: 'help' };
  if (sub === 'list') return rest.length === 0 ? { kind: 'list' } : invalid(`list takes no arguments: ${usageOf('list')}`);
  if (!SUB_COMMANDS.some((c) => c.name === sub)) {
    const closest = closestSubCommand(sub);
    const shown = JSON.stringify(first.slice(0, 40));
    return invalid(`${shown} is not an /oleada command${closest ? `; did you mean \`${usageOf(closest)}\`?` : ''}`);
  }
  const [target, ...more] = rest;
  if (target === undefined) return invalid(`${sub} needs a rollout: ${usageOf(sub)}`);
  if (!NAME.test(target)) return invalid(`${JSON.stringify(target.slice(0, 60))} is neither an app name nor a rollout id: ${usageOf(sub)}`);
  switch (sub) {
    case 'status':
      return more.length === 0 ? { kind: 'status', target } : invalid(`status takes one rollout: ${usageOf('status')}`);
    case 'approve': {
      if (more.length > 1) return invalid(`approve takes at most one wave: ${usageOf('approve')}`);
      const wave = more[0];
      if (wave !== undefined && !NAME.test(wave)) return invalid(`${JSON.stringify(wave.slice(0, 60))} is not a wave name`);
      return { kind: 'command', type: 'approve', target, args: wave === undefined ? {} : { wave }, reason: null };
    }
    case 'promote': {
      const full = more.includes('--full');
      const names = more.filter((w) => w !== '--full');
      if (names.length > 1 || names.some((w) => !NAME.test(w))) return invalid(`promote takes at most one cluster and --full: ${usageOf('promote')}`);
      const cluster = names[0];
      return { kind: 'command', type: 'promote', target, args: { ...(cluster !== undefined ? { cluster } : {}), ...(full ? { full } : {}) }, reason: null };
    }
    case 'pause':
    case 'resume':
    case 'abort': {
      const reason = more.join(' ');
      if (reason.length > MAX_REASON) return invalid(`the reason is longer than ${MAX_REASON} characters`);
      return { kind: 'command', type: sub, target, args: {}, reason: reason === '' ? null : reason };
    }
    default:
      return invalid(`${sub} is not an /oleada command`);
  }
}
