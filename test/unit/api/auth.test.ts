import { describe, expect, it } from 'vitest';
import { matchesGlob } from '../../../src/api/auth/glob.ts';
import { createToken, hashToken, roleAllows, TokenStore, TokensFileError } from '../../../src/api/auth/tokens.ts';
import { globToLike } from '../../../src/store/rollout-reads.ts';

const line = (name: string, token: string, role: string, apps?: string) =>
  `  - { name: ${name}, sha256: ${hashToken(token).toString('hex')}, role: ${role}${apps ? `, apps: "${apps}"` : ''} }`;

describe('TokenStore', () => {
  const store = TokenStore.parse(['tokens:', line('ci', 'secret-ci', 'deployer', 'checkout-*'), line('ops', 'secret-ops', 'admin')].join('\n'));

  it('finds the principal of a known token, with its role and app limit', () => {
    const ci = store.authenticate('secret-ci')!;
    expect(ci).toMatchObject({ name: 'ci', role: 'deployer', apps: ['checkout-*'] });
    expect(ci.canAccessApp('checkout-web')).toBe(true);
    expect(ci.canAccessApp('payments')).toBe(false);
    expect(store.authenticate('secret-ops')!.canAccessApp('anything')).toBe(true);
  });

  it('knows no token that is only close to a known one', () => {
    for (const guess of ['secret-c', 'secret-ci ', 'SECRET-CI', '', hashToken('secret-ci').toString('hex')]) {
      expect(store.authenticate(guess)).toBeUndefined();
    }
  });

  it.each([
    ['not YAML: [', /not valid YAML/],
    ['tokens: [{ name: a, sha256: abc, role: viewer }]', /\/tokens\/0\/sha256/],
    ['tokens: [{ name: a, sha256: ' + 'a'.repeat(64) + ', role: root }]', /\/tokens\/0\/role/],
    ['tokens: [{ name: a, sha256: ' + 'a'.repeat(64) + ', role: viewer, extra: 1 }]', /invalid/],
    ['tokens:\n' + line('a', 'x', 'viewer') + '\n' + line('a', 'y', 'viewer'), /names the token "a" twice/],
  ])('refuses a broken file, saying where: %s', (text, message) => {
    expect(() => TokenStore.parse(text, 'tokens.yaml')).toThrow(TokensFileError);
    expect(() => TokenStore.parse(text, 'tokens.yaml')).toThrow(message);
  });

  it('accepts an empty file as no tokens', () => {
    expect(TokenStore.parse('').size).toBe(0);
  });

  it('creates a random token whose line authenticates it', () => {
    const { token, entry } = createToken('gha', 'deployer', 'checkout-*');
    expect(token).toMatch(/^olt_[A-Za-z0-9_-]{43}$/);
    const parsed = TokenStore.parse(`tokens:\n  - ${JSON.stringify(entry)}`);
    expect(parsed.authenticate(token)).toMatchObject({ name: 'gha', role: 'deployer' });
    expect(createToken('gha', 'deployer').token).not.toBe(token);
    expect(() => createToken('bad name!', 'viewer')).toThrow(/name/);
  });
});

describe('Slack users in the tokens file', () => {
  const text = [
    'tokens:',
    line('ci', 'secret-ci', 'deployer'),
    'slack:',
    '  users:',
    '    - { id: U0ALICE001, name: alice, role: deployer }',
    '    - { id: W0BOB00001, role: viewer, apps: ["checkout-*", cart] }',
  ].join('\n');

  it('finds a Slack user by member id, with its role and app limit', () => {
    const store = TokenStore.parse(text);
    expect(store.slackUser('U0ALICE001')).toMatchObject({ id: 'U0ALICE001', name: 'alice', role: 'deployer', apps: undefined });
    const bob = store.slackUser('W0BOB00001')!;
    expect(bob.role).toBe('viewer');
    expect(bob.canAccessApp('checkout-web')).toBe(true);
    expect(bob.canAccessApp('payments')).toBe(false);
    expect(store.slackUser('U0NOBODY01')).toBeUndefined();
    // Slack users are not tokens: nothing a Slack user is named by authenticates against the API.
    expect(store.authenticate('U0ALICE001')).toBeUndefined();
  });

  it.each([
    ['slack:\n  users:\n    - { id: alice, role: deployer }', /\/slack\/users\/0\/id/],
    ['slack:\n  users:\n    - { id: U0ALICE001, role: root }', /\/slack\/users\/0\/role/],
    ['slack:\n  users:\n    - { id: U0ALICE001, role: viewer, token: x }', /invalid/],
    ['slack:\n  users:\n    - { id: U0ALICE001, role: viewer }\n    - { id: U0ALICE001, role: admin }', /names the Slack user U0ALICE001 twice/],
  ])('refuses a broken slack section, saying where: %s', (section, message) => {
    expect(() => TokenStore.parse(`tokens: []\n${section}`, 'tokens.yaml')).toThrow(message);
  });
});

describe('roles', () => {
  it('orders admin over deployer over viewer', () => {
    expect(roleAllows('admin', 'deployer')).toBe(true);
    expect(roleAllows('deployer', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'deployer')).toBe(false);
    expect(roleAllows('deployer', 'admin')).toBe(false);
  });
});

describe('app globs', () => {
  it.each([
    ['checkout-*', 'checkout-web', true],
    ['checkout-*', 'checkout', false],
    ['*-eu', 'shop-eu', true],
    ['cart', 'cart', true],
    ['cart', 'cartx', false],
    ['c?rt', 'cart', true],
    ['a.b', 'axb', false],
    ['*', 'anything', true],
  ])('%s matches %s: %s', (glob, app, expected) => {
    expect(matchesGlob(glob, app)).toBe(expected);
  });

  it('becomes a LIKE pattern that escapes LIKE wildcards', () => {
    expect(globToLike('checkout-*')).toBe('checkout-%');
    expect(globToLike('a_b%c?')).toBe('a\\_b\\%c_');
  });
});
