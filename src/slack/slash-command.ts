/**
 * `/oleada ...`: answered at once (Slack gives three seconds) with an ephemeral line, then done in the background and
 * its outcome posted to the request's response_url. Help, typos and refusals need nothing from PostgreSQL and are
 * answered in the acknowledgement itself.
 */
import { Type, type Static } from 'typebox';
import { canonicalHash } from '../engine/rollout-service.ts';
import { listActiveLines } from '../store/rollout-reads.ts';
import { completeKey, releaseKey, reserveKey } from '../store/idempotency.ts';
import { helpText, parseSlashCommand, type SlashCommand } from './command-text.ts';
import { ephemeral, type Ack, type SlackContext, type SlackPerson } from './context.ts';
import {
  awaitOutcome,
  describeNow,
  findTarget,
  giveCommand,
  notFoundText,
  outcomeText,
  recordSlackRefusal,
  rightsProblem,
  statusText,
} from './rollout-actions.ts';
import { slackActor } from './users.ts';

/** The fields of Slack's slash-command form that Oleada reads; Slack sends more, which are ignored. */
export const SlashCommandFormSchema = Type.Object({
  command: Type.String({ maxLength: 100 }),
  text: Type.Optional(Type.String({ maxLength: 4000 })),
  user_id: Type.String({ pattern: '^[UW][A-Z0-9]{2,30}$' }),
  user_name: Type.Optional(Type.String({ maxLength: 200 })),
  response_url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
  /** Unique per invocation: a resent request carries the same one, which makes it act once. */
  trigger_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
export type SlashCommandForm = Static<typeof SlashCommandFormSchema>;

const LIST_LIMIT = 25;

export function handleSlashCommand(context: SlackContext, form: SlashCommandForm): Ack {
  const parsed = parseSlashCommand(form.text ?? '');
  if (parsed.kind === 'help') return ephemeral(helpText());
  if (parsed.kind === 'invalid') return ephemeral(`${parsed.message}\n${helpText()}`);
  const person: SlackPerson = { id: form.user_id, name: form.user_name ?? form.user_id };
  const user = context.users(person.id);
  const problem = rightsProblem(person, user, parsed.kind === 'command' ? 'deployer' : 'viewer');
  if (problem) {
    if (parsed.kind === 'command') {
      context.work.run('recording a refusal', () =>
        recordSlackRefusal(context, { record: undefined, command: parsed.type, person, status: 403, code: problem.code, reason: problem.text }),
      );
    }
    return ephemeral(problem.text);
  }
  context.work.run(`/oleada ${parsed.kind}`, async () => {
    let text: string | undefined;
    try {
      text = await carryOut(context, parsed, person, form);
    } catch (err) {
      // The person still hears back; the error itself goes to the log, not to chat.
      await context.reply(form.response_url, { text: `Oleada could not do that because of an error on its side (logged); try again in a moment.` }).catch(() => {});
      throw err;
    }
    if (text !== undefined) await context.reply(form.response_url, { text });
  });
  return ephemeral(`Working on \`${form.command} ${(form.text ?? '').trim().slice(0, 200)}\`…`);
}

/** The reply to post, or undefined when this request is a resend of one already handled. */
async function carryOut(context: SlackContext, parsed: Exclude<SlashCommand, { kind: 'help' | 'invalid' }>, person: SlackPerson, form: SlashCommandForm): Promise<string | undefined> {
  const user = context.users(person.id);
  if (parsed.kind === 'list') {
    const lines = await listActiveLines(context.pool, { ...(user?.apps ? { appGlobs: user.apps } : {}), limit: LIST_LIMIT });
    if (lines.length === 0) return 'No rollout is running.';
    const shown = lines.map((l) => `• *${l.app}* ${l.appVersion} — ${l.phase.replaceAll('_', ' ')} (rollout \`${l.id}\`): ${l.reason}`);
    return [`Active rollouts${lines.length === LIST_LIMIT ? ` (the first ${LIST_LIMIT})` : ''}:`, ...shown].join('\n');
  }
  const record = await findTarget(context, parsed.target);
  if (!record) return notFoundText(parsed.target);
  const needed = parsed.kind === 'status' ? 'viewer' : 'deployer';
  const problem = rightsProblem(person, user, needed, record.app);
  if (problem) {
    if (parsed.kind === 'command') {
      await recordSlackRefusal(context, { record, command: parsed.type, person, status: 403, code: problem.code, reason: problem.text });
    }
    return problem.text;
  }
  if (parsed.kind === 'status') return statusText(record);

  // Slack does not resend slash commands today; if it ever does, the trigger id makes the resend act once.
  const key = form.trigger_id === undefined ? undefined : `slash:${form.trigger_id}`;
  const actor = slackActor(person.id);
  if (key !== undefined) {
    const stored = await reserveKey(context.pool, { actor, key, requestHash: canonicalHash(form.text ?? ''), rolloutId: record.id });
    if (stored) return undefined;
  }
  let result: Awaited<ReturnType<typeof giveCommand>>;
  try {
    result = await giveCommand(context, { record, type: parsed.type, args: parsed.args, reason: parsed.reason, person });
  } catch (err) {
    if (key !== undefined) await releaseKey(context.pool, actor, key).catch(() => {});
    throw err;
  }
  if (key !== undefined) {
    await completeKey(context.pool, actor, key, result.ok ? { status: 202, body: {}, commandId: result.command.id } : { status: 409, body: { code: result.code }, commandId: null });
  }
  if (!result.ok) return result.text;
  const command = await awaitOutcome(context, result.command);
  const now = await findTarget(context, record.id);
  return `${outcomeText(record, command)}${now ? `\n${describeNow(now)}` : ''}`;
}
