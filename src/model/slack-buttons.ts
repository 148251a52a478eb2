/**
 * What a Slack button carries. Notification messages render Approve / Promote / Abort buttons with this value, and the
 * interactions route reads it back: the click acts on exactly this rollout at exactly this revision, so a click on a
 * message that is out of date is refused instead of acting on a rollout that has moved on. Pure: no I/O.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/** The `action_id` of each button; the same words as the commands they send. */
export const BUTTON_ACTIONS = ['approve', 'promote', 'abort'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export const ButtonValueSchema = Type.Object(
  {
    rolloutId: Type.String({ minLength: 1, maxLength: 100 }),
    /** The rollout's version when the message was rendered (its ETag's number): the command's precondition. */
    revision: Type.Integer({ minimum: 0 }),
    /** The wave an Approve button opens. */
    wave: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** The cluster a Promote button moves on. */
    cluster: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type ButtonValue = Static<typeof ButtonValueSchema>;

/** The `value` string of a button. Slack allows 2,000 characters; ids and names are bounded well below that. */
export function encodeButtonValue(value: ButtonValue): string {
  return JSON.stringify(value);
}

/** The button's value, or undefined when it is not one Oleada wrote (a forged or foreign click). */
export function decodeButtonValue(text: string): ButtonValue | undefined {
  if (text.length > 2000) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Value.Check(ButtonValueSchema, parsed) ? parsed : undefined;
}
