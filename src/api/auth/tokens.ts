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
import { compileGlobs } from './glob.ts';

export const ROLES = ['viewer', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

/** Whether `held` includes everything `needed` allows: admin > deployer > viewer. */
export function roleAllows(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed];
}

const AppPattern = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9*?._-]+$' });

const TokenEntrySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9@._:/-]+$' }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
    role: Type.Enum(ROLES),
    apps: Type.Optional(Type.Union([AppPattern, Type.Array(AppPattern, { minItems: 1 })])),
  },
  { additionalProperties: false },
);

const TokensFileSchema = Type.Object({ tokens: Type.Array(TokenEntrySchema) }, { additionalProperties: false });

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

function toPrincipal(entry: TokenEntry): Principal {
  const apps = entry.apps === undefined ? undefined : Array.isArray(entry.apps) ? entry.apps : [entry.apps];
  const matches = apps === undefined ? () => true : compileGlobs(apps);
  return { name: entry.name, role: entry.role, apps, canAccessApp: matches };
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

  private constructor(private readonly tokens: StoredToken[]) {}

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
        `${source} is invalid (expected tokens: [{ name, sha256, role: viewer|deployer|admin, apps? }]): ${lines.join('; ')}`,
      );
    }
    const entries = (document as Static<typeof TokensFileSchema>).tokens;
    const names = new Set<string>();
    for (const entry of entries) {
      if (names.has(entry.name)) throw new TokensFileError(`${source} names the token "${entry.name}" twice; names are actors and must be unique`);
      names.add(entry.name);
    }
    return new TokenStore(entries.map((entry) => ({ hash: Buffer.from(entry.sha256, 'hex'), principal: toPrincipal(entry) })));
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
