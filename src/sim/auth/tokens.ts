// Authentication: bearer tokens to users. The cluster's own token is the admin (system:masters). Static user tokens
// are added by tests (`SimCluster.addUserToken`), as a token file would add them. ServiceAccount tokens come from
// TokenRequest: JWTs with the claims kube-apiserver puts in them, signed with a per-cluster HMAC key, and valid only
// while they have not expired and the ServiceAccount they name still exists with the same uid.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTHENTICATED, ADMIN_USER, serviceAccountUser, type UserInfo } from './identity.ts';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
}

export const ISSUER = 'https://kubernetes.default.svc.cluster.local';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export class TokenAuthenticator {
  private readonly key = randomBytes(32);
  private readonly users = new Map<string, UserInfo>();
  /** Verified ServiceAccount tokens, so the HMAC is computed once per token, not once per request. */
  private readonly verified = new Map<string, { claims: Claims; user: UserInfo }>();

  constructor(
    private readonly adminToken: string,
    /** The uid of a ServiceAccount as stored now, or undefined when it does not exist. */
    private readonly serviceAccountUid: (namespace: string, name: string) => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A static token for a user and groups (system:authenticated is added). */
  addUser(username: string, groups: string[] = []): string {
    const token = randomBytes(24).toString('hex');
    this.users.set(token, { username, groups: [...new Set([...groups, AUTHENTICATED])] });
    return token;
  }

  /** Issues a ServiceAccount token; `expirationSeconds` from now. */
  issue(sa: ServiceAccountRef, expirationSeconds: number, audiences: string[]): { token: string; expiresAt: number } {
    const iat = Math.floor(this.now() / 1000);
    const claims: Claims = {
      iss: ISSUER,
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      aud: audiences.length > 0 ? audiences : [ISSUER],
      exp: iat + expirationSeconds,
      iat,
      nbf: iat,
      'kubernetes.io': { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } },
    };
    const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
    return { token: `${unsigned}.${this.sign(unsigned)}`, expiresAt: claims.exp * 1000 };
  }

  /** The user a request's Authorization header names, or undefined (401). */
  authenticate(header: string | undefined): UserInfo | undefined {
    if (header === undefined || !header.startsWith('Bearer ')) return undefined;
    const token = header.slice(7).trim();
    if (token === this.adminToken) return ADMIN_USER;
    return this.users.get(token) ?? this.serviceAccountToken(token);
  }

  private serviceAccountToken(token: string): UserInfo | undefined {
    let entry = this.verified.get(token);
    if (!entry) {
      const claims = this.verify(token);
      if (!claims) return undefined;
      const sa = claims['kubernetes.io'];
      entry = { claims, user: serviceAccountUser(sa.namespace, sa.serviceaccount.name, sa.serviceaccount.uid) };
      this.verified.set(token, entry);
    }
    const { claims } = entry;
    const sa = claims['kubernetes.io'];
    if (claims.exp * 1000 <= this.now()) {
      this.verified.delete(token);
      return undefined;
    }
    // A token outlives nothing it names: deleting the ServiceAccount revokes it.
    if (this.serviceAccountUid(sa.namespace, sa.serviceaccount.name) !== sa.serviceaccount.uid) return undefined;
    return entry.user;
  }

  private verify(token: string): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
      return claims['kubernetes.io']?.serviceaccount?.uid ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}
