/**
 * What the slash command and the buttons have in common: finding the rollout a person means, checking that they may
 * act on it, giving the command through the engine's front door (with the revision precondition when a button
 * carries one), and saying in a line of chat what happened and what the rollout is doing now.
 */
import { CommandNotApplicable, CommandTargetUnknown, DomainError, RevisionStale, RolloutNotFound, toError } from '../errors.ts';
import type { CommandArgs, CommandRecord, CommandType } from '../model/commands.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import { roleAllows, type Role } from '../model/roles.ts';
import { getCommand } from '../store/commands.ts';
import { recordRefusal } from '../store/refusals.ts';
import { isRolloutId } from '../store/rollout-reads.ts';
import { findActiveByApp, getRollout } from '../store/rollouts.ts';
import type { SlackContext, SlackPerson } from './context.ts';
import { slackActor, type SlackUser } from './users.ts';

/** The rollout `target` names: a rollout id, or an app's active rollout. */
export async function findTarget(context: SlackContext, target: string): Promise<RolloutRecord | undefined> {
  if (isRolloutId(target)) return getRollout(context.pool, target);
  return findActiveByApp(context.pool, target);
}

export function notFoundText(target: string): string {
  return isRolloutId(target)
    ? `There is no rollout ${target}.`
    : `${target} has no active rollout; \`/oleada list\` shows the ones that run.`;
}

/** Why this person may not do what needs `needed` (on `app`, when given); undefined when they may. */
export function rightsProblem(person: SlackPerson, user: SlackUser | undefined, needed: Role, app?: string): { code: string; text: string } | undefined {
  if (!user) {
    return {
      code: 'slack_user_unknown',
      text: `Oleada does not know you (Slack user ${person.id}). Ask an Oleada administrator to add you under \`slack.users\` in the tokens file.`,
    };
  }
  if (!roleAllows(user.role, needed)) {
    return { code: 'role_insufficient', text: `You have the role ${user.role} in Oleada; this needs ${needed} or above. Nothing was done.` };
  }
  if (app !== undefined && !user.canAccessApp(app)) {
    return { code: 'app_not_allowed', text: `You may act on apps matching ${(user.apps ?? []).join(', ')}, not on ${app}. Nothing was done.` };
  }
  return undefined;
}

/** One line on what a rollout is doing now. */
export function describeNow(record: Pick<RolloutRecord, 'id' | 'app' | 'phase' | 'version' | 'state'>): string {
  return `*${record.app}* (rollout \`${record.id}\`) is ${record.phase.replaceAll('_', ' ')} at revision ${record.version}: ${record.state.reason}`;
}

/** The status of a rollout: the line above, then each wave and its clusters. */
export function statusText(record: RolloutRecord): string {
  const lines = [`${describeNow(record)}`, `version ${record.plan.version}, image \`${record.spec.image}\``];
  record.state.waves.forEach((wave, index) => {
    const clusters = (record.plan.waves[index]?.clusters ?? []).map((name) => {
      const cluster = record.state.clusters[name];
      if (!cluster) return name;
      const weight = cluster.phase === 'canary' ? ` ${cluster.actualWeight}%` : '';
      return `${name} ${cluster.phase.replaceAll('_', ' ')}${weight}`;
    });
    const approved = wave.approvedBy ? `, approved by ${wave.approvedBy}` : '';
    lines.push(`• wave ${wave.name}: ${wave.status.replaceAll('_', ' ')}${approved} — ${clusters.join(', ') || 'no clusters'}`);
  });
  return lines.join('\n');
}

/** What a command does, in words: "approve wave europe", "promote prod-eu-1 fully", "abort". */
export function commandWords(type: CommandType, args: CommandArgs): string {
  const target = args.wave !== undefined ? ` wave ${args.wave}` : args.cluster !== undefined ? ` ${args.cluster}` : '';
  return `${type}${target}${args.full ? ' fully' : ''}`;
}

export interface CommandRequest {
  record: RolloutRecord;
  type: CommandType;
  args: CommandArgs;
  reason: string | null;
  person: SlackPerson;
  /** Only while the rollout is still at this revision (what a button was rendered for). */
  expectedRevision?: number;
}

/** A command the engine's front door refused; `text` says why and what the rollout is doing now. */
export interface CommandRefused {
  ok: false;
  code: string;
  text: string;
}

/** The reason written with the command: the Slack name beside the stable id, so the audit trail reads as a person. */
function auditReason(person: SlackPerson, reason: string | null): string {
  return `@${person.name} in Slack${reason ? ` — ${reason}` : ''}`;
}

const REFUSAL_STATUS = new Map<abstract new (...args: never[]) => DomainError, number>([
  [RolloutNotFound, 404],
  [CommandNotApplicable, 409],
  [CommandTargetUnknown, 422],
  [RevisionStale, 412],
]);

/** Gives the command; a refusal of the engine's (stale, does not fit the phase, unknown wave) comes back as text. */
export async function giveCommand(context: SlackContext, request: CommandRequest): Promise<{ ok: true; command: CommandRecord } | CommandRefused> {
  const { record, type, args, person } = request;
  if (!context.service) {
    throw new Error('this Oleada API was started without the rollout service; commands cannot be stored');
  }
  try {
    const command = await context.service.command({
      rolloutId: record.id,
      type,
      args,
      reason: auditReason(person, request.reason),
      actor: slackActor(person.id),
      ...(request.expectedRevision !== undefined ? { expectedRevision: request.expectedRevision } : {}),
    });
    return { ok: true, command };
  } catch (err) {
    const status = err instanceof DomainError ? REFUSAL_STATUS.get(err.constructor as typeof DomainError) : undefined;
    if (!(err instanceof DomainError) || status === undefined) throw err;
    await recordSlackRefusal(context, { record, command: type, person, status, code: err.code, reason: err.message });
    const now = await getRollout(context.pool, record.id);
    const text =
      err instanceof RevisionStale
        ? `Nothing was done: this was for revision ${request.expectedRevision}, and the rollout has moved on. ${now ? describeNow(now) : ''}`
        : `Nothing was done: ${err.message}.${now ? ` ${describeNow(now)}` : ''}`;
    return { ok: false, code: err.code, text };
  }
}

/** Writes a refusal to the audit trail; losing the record must not lose the reply to the person. */
export async function recordSlackRefusal(
  context: SlackContext,
  refusal: { record: Pick<RolloutRecord, 'id' | 'app'> | undefined; command: string; person: SlackPerson; status: number; code: string; reason: string },
): Promise<void> {
  try {
    await recordRefusal(context.pool, {
      rolloutId: refusal.record?.id ?? null,
      app: refusal.record?.app ?? null,
      command: refusal.command,
      actor: slackActor(refusal.person.id),
      status: refusal.status,
      code: refusal.code,
      reason: refusal.reason,
    });
  } catch (err) {
    context.logger.error({ err: toError(err) }, 'slack: cannot record a refused command');
  }
}

const POLL_MS = 100;

/**
 * The command as the engine left it: applied or rejected, once its tick ran, or still pending after outcomeWaitMs
 * (no engine running, or a slow one); the reply then says it is stored.
 */
export async function awaitOutcome(context: SlackContext, command: CommandRecord): Promise<CommandRecord> {
  const deadline = Date.now() + context.outcomeWaitMs;
  let current = command;
  while (current.outcome === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = (await getCommand(context.pool, command.id)) ?? current;
  }
  return current;
}

/** The reply about a command the engine took: applied, rejected at its tick, or stored and waiting. */
export function outcomeText(record: Pick<RolloutRecord, 'app' | 'id'>, command: CommandRecord): string {
  const what = `${commandWords(command.type, command.args)} of *${record.app}* (rollout \`${record.id}\`)`;
  if (command.outcome === 'applied') return `Done: ${what}. ${command.outcomeMessage ?? ''}`.trim();
  if (command.outcome === 'rejected') return `The engine rejected ${what}: ${command.outcomeMessage ?? 'no reason given'}.`;
  return `Stored ${what} as command ${command.id}; the engine applies it at its next tick.`;
}
