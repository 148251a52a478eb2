// Generated names, as Kubernetes makes them: a 5-character suffix from an alphabet without vowels or look-alikes.
import { randomInt } from 'node:crypto';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** FNV-1a, 32 bit: the hash Kubernetes uses for pod-template-hash. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Kubernetes' SafeEncodeString: a hash rendered without vowels, so it never spells a word. */
export function safeEncode(value: number): string {
  const digits = String(value);
  let out = '';
  for (const digit of digits) out += ALPHABET[digit.charCodeAt(0) % ALPHABET.length];
  return out;
}

/** JSON with keys in sorted order, so that equal objects hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
