import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken, TokenStore } from '../../../src/api/auth/tokens.ts';
import { watchTokensFile, type WatchedTokens } from '../../../src/api/auth/tokens-file.ts';
import { createLogger } from '../../../src/log.ts';
import { waitFor } from '../../support/wait.ts';

const file = (...entries: [name: string, token: string, role: string][]) =>
  `tokens:\n${entries.map(([name, token, role]) => `  - { name: ${name}, sha256: ${hashToken(token).toString('hex')}, role: ${role} }\n`).join('')}`;

describe('the accepted-token cache', () => {
  it('answers a token accepted before with the same principal, and never turns a refusal into an acceptance', () => {
    const store = TokenStore.parse(file(['ci', 'secret-ci', 'deployer']));
    const first = store.authenticate('secret-ci');
    expect(first).toMatchObject({ name: 'ci', role: 'deployer' });
    expect(store.authenticate('secret-ci')).toBe(first);
    for (let i = 0; i < 3; i++) expect(store.authenticate('secret-c')).toBeUndefined();
    expect(store.authenticate('secret-ci ')).toBeUndefined();
  });

  describe('when the tokens file is reloaded', () => {
    let dir: string;
    let path: string;
    let watched: WatchedTokens | undefined;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'oleada-tokens-'));
      path = join(dir, 'tokens.yaml');
    });
    afterEach(async () => {
      watched?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('refuses a revoked token at once although it was accepted (and cached) a moment before, and sees a new role', async () => {
      await writeFile(path, file(['ci', 'secret-ci', 'deployer'], ['ops', 'secret-ops', 'admin']));
      watched = await watchTokensFile(path, createLogger('silent'), 50);
      expect(watched.current().authenticate('secret-ci')).toMatchObject({ name: 'ci' });
      expect(watched.current().authenticate('secret-ops')).toMatchObject({ role: 'admin' });

      // ci revoked, ops demoted; the size changes too, so the reload cannot miss the edit.
      await writeFile(path, file(['ops', 'secret-ops', 'viewer'], ['new', 'secret-new', 'viewer']));
      await waitFor('the tokens file to be reloaded', () => watched!.current().size === 2 && watched!.current().authenticate('secret-new') !== undefined, 5_000);
      expect(watched.current().authenticate('secret-ci')).toBeUndefined();
      expect(watched.current().authenticate('secret-ops')).toMatchObject({ role: 'viewer' });
    });
  });
});
