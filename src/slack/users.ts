/**
 * Slack users who may use Oleada from chat, by Slack user id: each has a role and, optionally, the apps it is limited
 * to, exactly as an API token. They live in the tokens file, under `slack.users`, so one file says who may do what
 * whichever way they come in (api/auth/tokens.ts reads it and reloads it on change).
 */
import { Type } from 'typebox';
import { AppGlobSchema, ROLES, type Role } from '../model/roles.ts';

export const SlackUserEntrySchema = Type.Object(
  {
    /** The member id Slack sends with every request (profile → ⋮ → Copy member ID): U… or W… */
    id: Type.String({ pattern: '^[UW][A-Z0-9]{2,30}$' }),
    /** Who this is, for people reading the file; the audit trail takes the name Slack sends with each request. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    role: Type.Enum(ROLES),
    apps: Type.Optional(Type.Union([AppGlobSchema, Type.Array(AppGlobSchema, { minItems: 1 })])),
  },
  { additionalProperties: false },
);

export const SlackSectionSchema = Type.Object({ users: Type.Array(SlackUserEntrySchema) }, { additionalProperties: false });

/** A Slack user the tokens file knows. */
export interface SlackUser {
  id: string;
  name: string | undefined;
  role: Role;
  /** The app globs this user is limited to; undefined means every app. */
  apps: string[] | undefined;
  canAccessApp(app: string): boolean;
}

/** Finds the Slack user with this id; undefined when the tokens file does not name it. */
export type SlackUserLookup = (userId: string) => SlackUser | undefined;

/** The audit actor of a Slack user: the id is stable, the name Slack shows may change. */
export function slackActor(userId: string): string {
  return `slack:${userId}`;
}
