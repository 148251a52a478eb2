import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/redact.ts';

describe('redactUrl', () => {
  it.each([
    ['http://prometheus:9090', 'http://prometheus:9090'],
    ['https://user:secret@prom.example:9090/prefix', 'https://user:***@prom.example:9090/prefix'],
    ['https://token@prom.example', 'https://***@prom.example/'],
    ['https://user:sec ret@bad host', 'https://***@bad host'],
    ['not a url', 'not a url'],
  ])('shows %s as %s', (input, shown) => {
    expect(redactUrl(input)).toBe(shown);
  });
});
