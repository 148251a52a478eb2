import { describe, expect, it } from 'vitest';
import { closestSubCommand, helpText, parseSlashCommand } from '../../../src/slack/command-text.ts';

describe('the /oleada command text', () => {
  it.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['  LIST ', { kind: 'list' }],
    ['status checkout', { kind: 'status', target: 'checkout' }],
    ['approve checkout', { kind: 'command', type: 'approve', target: 'checkout', args: {}, reason: null }],
    ['approve checkout europe', { kind: 'command', type: 'approve', target: 'checkout', args: { wave: 'europe' }, reason: null }],
    ['promote checkout', { kind: 'command', type: 'promote', target: 'checkout', args: {}, reason: null }],
    ['promote checkout prod-eu-1 --full', { kind: 'command', type: 'promote', target: 'checkout', args: { cluster: 'prod-eu-1', full: true }, reason: null }],
    ['promote checkout --full', { kind: 'command', type: 'promote', target: 'checkout', args: { full: true }, reason: null }],
    ['pause checkout', { kind: 'command', type: 'pause', target: 'checkout', args: {}, reason: null }],
    ['resume checkout looks fine now', { kind: 'command', type: 'resume', target: 'checkout', args: {}, reason: 'looks fine now' }],
    ['abort 0b5c1a52-8d3e-4a57-9d5f-1f0e6f4c2a10 errors in eu', { kind: 'command', type: 'abort', target: '0b5c1a52-8d3e-4a57-9d5f-1f0e6f4c2a10', args: {}, reason: 'errors in eu' }],
  ])('reads %j', (text, expected) => {
    expect(parseSlashCommand(text)).toEqual(expected);
  });

  it.each([
    ['aprove checkout', 'approve'],
    ['promot checkout', 'promote'],
    ['stauts checkout', 'status'],
    ['abrot checkout', 'abort'],
    ['lsit', 'list'],
    ['resme checkout', 'resume'],
  ])('answers the typo %j with the closest sub-command, %s', (text, closest) => {
    const parsed = parseSlashCommand(text);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.message).toContain(`did you mean \`/oleada ${closest}`);
  });

  it('suggests nothing for a word far from every sub-command', () => {
    expect(closestSubCommand('kubernetes')).toBeUndefined();
    const parsed = parseSlashCommand('kubernetes checkout');
    expect(parsed.kind === 'invalid' && parsed.message).not.toContain('did you mean');
  });

  it.each([
    ['approve', 'approve needs a rollout'],
    ['status a b', 'status takes one rollout'],
    ['approve checkout europe americas', 'approve takes at most one wave'],
    ['promote checkout a b', 'promote takes at most one cluster'],
    ['status che$kout', 'is neither an app name nor a rollout id'],
    ['list checkout', 'list takes no arguments'],
  ])('refuses %j with the usage', (text, message) => {
    const parsed = parseSlashCommand(text);
    expect(parsed).toEqual({ kind: 'invalid', message: expect.stringContaining(message) });
  });

  it('lists every sub-command in the help text', () => {
    for (const name of ['help', 'list', 'status', 'approve', 'promote', 'pause', 'resume', 'abort']) expect(helpText()).toContain(`/oleada ${name}`);
  });
});
