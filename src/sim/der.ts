// Just enough DER (ASN.1 Distinguished Encoding Rules) to write X.509 certificates with node:crypto alone, so that
// `--tls` works on any machine with Node, without the openssl binary.

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
export const octetString = (content: Buffer) => tlv(0x04, content);
export const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
export const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
/** [n] EXPLICIT: a constructed context-specific tag wrapping an encoded value. */
export const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);
/** [n] IMPLICIT on a primitive value (the SAN entries, the key identifier). */
export const implicitPrimitive = (n: number, content: Buffer) => tlv(0x80 | n, content);

/** A non-negative INTEGER from big-endian bytes. */
export function integer(bytes: Buffer | number): Buffer {
  let content = typeof bytes === 'number' ? Buffer.from([bytes]) : bytes;
  let start = 0;
  while (start < content.length - 1 && content[start] === 0 && (content[start + 1]! & 0x80) === 0) start++;
  content = content.subarray(start);
  if ((content[0]! & 0x80) !== 0) content = Buffer.concat([Buffer.from([0]), content]);
  return tlv(0x02, content);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift(n & 0x7f);
      n = Math.floor(n / 128);
    } while (n > 0);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

export function bitString(content: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
}

/** A BIT STRING of named bits (KeyUsage): bit 0 is the most significant bit of the first byte; trailing zeros dropped. */
export function namedBits(bits: number[]): Buffer {
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> bit % 8;
  const unused = 7 - (max % 8);
  return bitString(bytes, unused);
}

/** UTCTime before 2050, GeneralizedTime after, as RFC 5280 requires. */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  if (date.getUTCFullYear() < 2050) return tlv(0x17, Buffer.from(compact.slice(2), 'ascii'));
  return tlv(0x18, Buffer.from(compact, 'ascii'));
}
