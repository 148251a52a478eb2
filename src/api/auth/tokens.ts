/**
 * API tokens: a YAML file of names, roles, app patterns and the SHA-256 of each token. The file never holds a token
 * itself, so it can live in a config repository; the token is shown once, by `oleada token create`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { toError } from '../../errors.ts';
import { compileGlobs } from '../../model/glob.ts';
import { AppGlobSchema, ROLES, roleAllows, type Role } from '../../model/roles.ts';
import { SlackSectionSchema, type SlackUser } from '../../slack/users.ts';

export { ROLES, roleAllows, type Role };

const TokenEntrySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9@._:/-]+$' }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
    role: Type.Enum(ROLES),
    apps: Type.Optional(Type.Union([AppGlobSchema, Type.Array(AppGlobSchema, { minItems: 1 })])),
  },
  { additionalProperties: false },
);

const TokensFileSchema = Type.Object(
  { tokens: Type.Array(TokenEntrySchema), slack: Type.Optional(SlackSectionSchema) },
  { additionalProperties: false },
);

type TokenEntry = Static<typeof TokenEntrySchema>;

/** Who is calling: the token's name is the actor written to the event log. */
export interface Principal {
  name: string;
  role: Role;
  /** The app globs this token is limited to; undefined means every app. */
  apps: string[] | undefined;
  /** Whether this principal may act on `app`. */
  canAccessApp(app: string): boolean;
}

interface StoredToken {
  hash: Buffer;
  principal: Principal;
}

export class TokensFileError extends Error {
  override name = 'TokensFileError';
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function appsOf(apps: string | string[] | undefined): { apps: string[] | undefined; canAccessApp: (app: string) => boolean } {
  const list = apps === undefined ? undefined : Array.isArray(apps) ? apps : [apps];
  return { apps: list, canAccessApp: list === undefined ? () => true : compileGlobs(list) };
}

function toPrincipal(entry: TokenEntry): Principal {
  return { name: entry.name, role: entry.role, ...appsOf(entry.apps) };
}

function toSlackUser(entry: Static<typeof SlackSectionSchema>['users'][number]): SlackUser {
  return { id: entry.id, name: entry.name, role: entry.role, ...appsOf(entry.apps) };
}

/**
 * How many accepted tokens a store remembers unhashed. Only tokens that matched an entry are remembered, so there are
 * never more than the file has entries; the bound is for a file of many thousands.
 */
const ACCEPTED_CACHE_SIZE = 1_000;

/** The tokens the API accepts. Immutable: reloading builds a new one, with an empty cache. */
export class TokenStore {
  /**
   * Tokens already accepted, by the token itself: a dashboard or CI script presents the same token on every poll, and
   * hashing it and comparing it with every entry is the largest part of authenticating. The cache belongs to this
   * store, so a reloaded tokens file (a new store) starts empty and a revoked token is refused at once. A miss (an
   * unknown token) is never cached: guessing fills nothing, and each guess pays the full constant-time comparison.
   * The lookup itself hashes the presented string with V8's per-process random seed, so its timing tells nothing about
   * the accepted tokens.
   */
  private readonly accepted = new Map<string, Principal>();

  private constructor(
    private readonly tokens: StoredToken[],
    private readonly slackUsers: ReadonlyMap<string, SlackUser> = new Map(),
  ) {}

  static empty(): TokenStore {
    return new TokenStore([]);
  }

  /** Parses the file's text; `source` names it in error messages. */
  static parse(text: string, source = 'tokens file'): TokenStore {
    let document: unknown;
    try {
      document = parseYaml(text, { maxAliasCount: 10 }) ?? { tokens: [] };
    } catch (err) {
      throw new TokensFileError(`${source} is not valid YAML: ${toError(err).message}`);
    }
    const problems = [...Value.Errors(TokensFileSchema, document)].slice(0, 5);
    if (problems.length > 0) {
      const lines = problems.map((e) => `${e.instancePath || '/'}: ${e.message}`);
      throw new TokensFileError(
        `${source} is invalid (expected tokens: [{ name, sha256, role: viewer|deployer|admin, apps? }] and optionally slack: { users: [{ id, name?, role, apps? }] }): ${lines.join('; ')}`,
      );
    }
    const { tokens: entries, slack } = document as Static<typeof TokensFileSchema>;
    const names = new Set<string>();
    for (const entry of entries) {
      if (names.has(entry.name)) throw new TokensFileError(`${source} names the token "${entry.name}" twice; names are actors and must be unique`);
      names.add(entry.name);
    }
    const slackUsers = new Map<string, SlackUser>();
    for (const entry of slack?.users ?? []) {
      if (slackUsers.has(entry.id)) throw new TokensFileError(`${source} names the Slack user ${entry.id} twice under slack.users; give each one entry`);
      slackUsers.set(entry.id, toSlackUser(entry));
    }
    return new TokenStore(
      entries.map((entry) => ({ hash: Buffer.from(entry.sha256, 'hex'), principal: toPrincipal(entry) })),
      slackUsers,
    );
  }

  static async load(path: string): Promise<TokenStore> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new TokensFileError(`cannot read the tokens file ${path} (OLEADA_TOKENS_FILE): ${toError(err).message}`);
    }
    return TokenStore.parse(text, path);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The Slack user with this member id, from the file's `slack.users`; undefined for anyone else. */
  slackUser(userId: string): SlackUser | undefined {
    return this.slackUsers.get(userId);
  }

  /**
   * The principal for a presented token, or undefined. Every stored hash is compared, in constant time, whatever
   * matched earlier: neither the timing of one comparison nor the number of comparisons tells which token was near.
   */
  authenticate(token: string): Principal | undefined {
    const known = this.accepted.get(token);
    if (known) return known;
    const found = this.compareAll(token);
    if (found) {
      if (this.accepted.size >= ACCEPTED_CACHE_SIZE) this.accepted.delete(this.accepted.keys().next().value!);
      this.accepted.set(token, found);
    }
    return found;
  }

  private compareAll(token: string): Principal | undefined {
    const presented = hashToken(token);
    let found: Principal | undefined;
    for (const stored of this.tokens) {
      if (timingSafeEqual(stored.hash, presented) && found === undefined) found = stored.principal;
    }
    return found;
  }
}

/** A new random token, and the line to add to the tokens file for it. */
export function createToken(name: string, role: Role, apps?: string): { token: string; entry: TokenEntry } {
  // 32 random bytes: far beyond guessing, and base64url keeps it safe in headers and shells.
  const token = `olt_${randomBytes(32).toString('base64url')}`;
  const entry: TokenEntry = { name, sha256: hashToken(token).toString('hex'), role, ...(apps ? { apps } : {}) };
  const problems = [...Value.Errors(TokenEntrySchema, entry)];
  if (problems.length > 0) {
    throw new TokensFileError(`the token entry is invalid: ${problems.map((e) => `${e.instancePath}: ${e.message}`).join('; ')}`);
  }
  return { token, entry };
}
