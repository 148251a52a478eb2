/**
 * Clicks on the Approve / Promote / Abort buttons of notification messages (`block_actions`). A click acts on exactly
 * the rollout and revision its button carries, through the same revision-checked command as the API's If-Match, so a
 * click on an out-of-date message does nothing and tells the clicker what the rollout is doing now.
 *
 * A revision that has moved on only because other parts of the rollout ticked does not make the button stale while
 * what it asks about still waits (`stillWaitsFor`); once that is settled, the click is refused.
 *
 * A button acts once: its rollout, revision, action and target make an idempotency key (command_requests, as the
 * API's Idempotency-Key), shared by everyone, so a double click, Slack's resend of the same request, or a colleague's
 * click on the same message a moment later finds the first click's answer instead of giving the command again.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { canonicalHash } from '../engine/rollout-service.ts';
import { completeKey, releaseKey, reserveKey } from '../store/idempotency.ts';
import { isRolloutId } from '../store/rollout-reads.ts';
import { getRollout } from '../store/rollouts.ts';
import { assertNever } from '../errors.ts';
import type { RolloutRecord } from '../model/rollout.ts';
import { isTerminal, type ClusterState } from '../model/state.ts';
import { BUTTON_ACTIONS, decodeButtonValue, type ButtonAction, type ButtonValue } from './button-value.ts';
import { badPayload, EMPTY_ACK, type Ack, type SlackContext, type SlackPerson } from './context.ts';
import { actedMessageBlocks, updateMessage, type Block } from './replies.ts';
import { awaitOutcome, commandWords, describeNow, giveCommand, outcomeText, recordSlackRefusal, rightsProblem } from './rollout-actions.ts';

const Text = (maxLength: number) => Type.String({ maxLength });

/** The parts of a block_actions payload Oleada reads; Slack sends many more, which are ignored. */
export const BlockActionsSchema = Type.Object({
  type: Type.Literal('block_actions'),
  user: Type.Object({ id: Type.String({ pattern: '^[UW][A-Z0-9]{2,30}$' }), username: Type.Optional(Text(200)), name: Type.Optional(Text(200)) }),
  actions: Type.Array(Type.Object({ action_id: Text(255), value: Type.Optional(Text(2000)) }), { minItems: 1, maxItems: 25 }),
  response_url: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2000 })),
  container: Type.Optional(Type.Object({ channel_id: Type.Optional(Text(100)), message_ts: Type.Optional(Text(100)) })),
  channel: Type.Optional(Type.Object({ id: Text(100) })),
  message: Type.Optional(
    Type.Object({ ts: Text(100), text: Type.Optional(Text(40_000)), blocks: Type.Optional(Type.Array(Type.Object({ type: Text(100) }), { maxItems: 100 })) }),
  ),
});
type BlockActions = Static<typeof BlockActionsSchema>;

/** Actor under which button keys are kept: one namespace for everyone, since a button acts once whoever clicks. */
const BUTTON_KEYS = 'slack:buttons';

const PAST: Record<ButtonAction, string> = { approve: 'Approved', promote: 'Promoted', abort: 'Aborted' };

/** Answers a POST to /slack/interactions whose signature is good; `retry` when Slack says it is a resend. */
export function handleInteraction(context: SlackContext, payloadText: string | undefined, retry: boolean): Ack {
  if (payloadText === undefined) return badPayload('the form has no payload field; Slack sends interactions as payload=<JSON>');
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch {
    return badPayload('the payload field is not JSON');
  }
  // Other interactions (shortcuts, modal submissions) are not Oleada's: acknowledged and left alone.
  if (typeof payload !== 'object' || payload === null || (payload as { type?: unknown }).type !== 'block_actions') return EMPTY_ACK;
  if (!Value.Check(BlockActionsSchema, payload)) {
    const first = [...Value.Errors(BlockActionsSchema, payload)][0];
    return badPayload(`the block_actions payload is invalid at ${first?.instancePath || '/'}: ${first?.message ?? 'unexpected shape'}`);
  }
  const action = payload.actions[0]!;
  // Buttons that are not Oleada's commands (a link to the dashboard) also send clicks; there is nothing to do.
  if (!(BUTTON_ACTIONS as readonly string[]).includes(action.action_id)) return EMPTY_ACK;
  const value = action.value === undefined ? undefined : decodeButtonValue(action.value);
  const person: SlackPerson = { id: payload.user.id, name: payload.user.username ?? payload.user.name ?? payload.user.id };
  const reply = async (text: string) => {
    if (payload.response_url) await context.reply(payload.response_url, { text });
  };
  context.work.run(`a click on ${action.action_id}`, async () => {
    if (!value) return reply('This button was not made by Oleada (its value is not a rollout and revision); nothing was done.');
    try {
      await click(context, payload, action.action_id as ButtonAction, value, person, retry, reply);
    } catch (err) {
      await reply('Oleada could not act on this click because of an error on its side (logged); try again in a moment.').catch(() => {});
      throw err;
    }
  });
  return EMPTY_ACK;
}

/**
 * Whether the rollout still waits for what the button was rendered for, although its revision has moved on: the same
 * wave still waits for approval, the same cluster still waits in canary for a promote, the rollout can still be
 * aborted. A rollout's revision rises with every tick that writes (an analysis of another cluster, say), so a button
 * checked against the revision alone would go stale while the thing it asks about is unchanged. Once the wave is
 * approved or the cluster moves on, this is false and the click is refused as stale.
 */
export function stillWaitsFor(record: RolloutRecord, action: ButtonAction, value: ButtonValue): boolean {
  const { state } = record;
  switch (action) {
    case 'approve': {
      const wave = state.waves[state.waveIndex];
      return record.phase === 'awaiting_approval' && wave?.status === 'awaiting_approval' && (value.wave === undefined || wave.name === value.wave);
    }
    case 'promote': {
      const waiting = (c: ClusterState) => c.phase === 'canary' && (c.awaitingPromote || record.phase === 'paused');
      if (value.cluster === undefined) return Object.values(state.clusters).some(waiting);
      const cluster = state.clusters[value.cluster];
      return cluster !== undefined && waiting(cluster);
    }
    case 'abort':
      return !isTerminal(record.phase) && record.phase !== 'rolling_back';
    default:
      return assertNever(action, 'button action');
  }
}

async function click(
  context: SlackContext,
  payload: BlockActions,
  action: ButtonAction,
  value: ButtonValue,
  person: SlackPerson,
  retry: boolean,
  reply: (text: string) => Promise<void>,
): Promise<void> {
  const user = context.users(person.id);
  const record = isRolloutId(value.rolloutId) ? await getRollout(context.pool, value.rolloutId) : undefined;
  const problem = rightsProblem(person, user, 'deployer', record?.app);
  if (problem) {
    await recordSlackRefusal(context, { record, command: action, person, status: 403, code: problem.code, reason: problem.text });
    return reply(problem.text);
  }
  if (!record) return reply(`Rollout ${value.rolloutId} no longer exists; nothing was done.`);

  const key = `button:${action}:${value.rolloutId}:${value.revision}:${value.wave ?? ''}:${value.cluster ?? ''}`;
  const stored = await reserveKey(context.pool, { actor: BUTTON_KEYS, key, requestHash: canonicalHash({ action, value }), rolloutId: record.id });
  if (stored) {
    // Slack's resend of a click already being handled (or handled) needs no second reply.
    if (retry) return;
    const by = (stored.body as { by?: string } | null)?.by;
    const now = await getRollout(context.pool, record.id);
    const first = stored.status === 0 ? 'is being handled' : by ? `was already used by <@${by}>` : 'was already used';
    return reply(`This button ${first}; nothing more was done.${now ? ` ${describeNow(now)}` : ''}`);
  }

  const args = action === 'approve' ? (value.wave !== undefined ? { wave: value.wave } : {}) : action === 'promote' && value.cluster !== undefined ? { cluster: value.cluster } : {};
  // A rollout's revision also moves with analysis ticks of other clusters; what the button asked about may still hold.
  const expectedRevision = record.version !== value.revision && stillWaitsFor(record, action, value) ? record.version : value.revision;
  let result: Awaited<ReturnType<typeof giveCommand>>;
  try {
    result = await giveCommand(context, { record, type: action, args, reason: null, person, expectedRevision });
  } catch (err) {
    await releaseKey(context.pool, BUTTON_KEYS, key).catch(() => {});
    throw err;
  }
  if (!result.ok) {
    await completeKey(context.pool, BUTTON_KEYS, key, { status: result.code === 'revision_stale' ? 412 : 409, body: { code: result.code }, commandId: null });
    return reply(result.text);
  }
  await completeKey(context.pool, BUTTON_KEYS, key, { status: 202, body: { by: person.id }, commandId: result.command.id });

  // The message loses its buttons at once, so nobody else clicks a button that has been used.
  const channel = payload.container?.channel_id ?? payload.channel?.id;
  const ts = payload.container?.message_ts ?? payload.message?.ts;
  if (context.web && channel && ts && payload.message) {
    const line = `${action === 'abort' ? ':octagonal_sign:' : ':white_check_mark:'} ${PAST[action]} by <@${person.id}>${args.wave ? ` (wave ${args.wave})` : ''}${args.cluster ? ` (${args.cluster})` : ''}`;
    const blocks = actedMessageBlocks((payload.message.blocks ?? []) as Block[], line);
    await updateMessage(context.web, { channel, ts, text: payload.message.text ?? `${record.app}: ${commandWords(action, args)}`, blocks }).catch((err: unknown) =>
      context.logger.warn({ err }, 'slack: the message a button was on could not be updated; its buttons stay until the next notification'),
    );
  }
  const command = await awaitOutcome(context, result.command);
  await reply(outcomeText(record, command));
}
