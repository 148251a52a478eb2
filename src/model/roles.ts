import { Type } from 'typebox';

/** Who may do what: the roles of API tokens and of Slack users, in increasing order of power. */
export const ROLES = ['viewer', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

/** Whether `held` includes everything `needed` allows: admin > deployer > viewer. */
export function roleAllows(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed];
}

/** An app pattern that limits a token or a Slack user: `*` any run of characters, `?` one. */
export const AppGlobSchema = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9*?._-]+$' });
