import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeLength, integer, oid } from '../../../src/sim/der.ts';
import { generateTlsMaterial } from '../../../src/sim/tls.ts';

describe('the generated certificates', () => {
  const material = generateTlsMaterial();
  const ca = new X509Certificate(material.caCert);
  const server = new X509Certificate(material.cert);

  it('make a CA that signed a serving certificate for 127.0.0.1 and localhost', () => {
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('are valid now, and the key matches the certificate', () => {
    const now = Date.now();
    expect(Date.parse(server.validFrom)).toBeLessThan(now);
    expect(Date.parse(server.validTo)).toBeGreaterThan(now + 365 * 86_400_000);
    const fromKey = createPublicKey(createPrivateKey(material.key)).export({ type: 'spki', format: 'der' });
    expect(server.publicKey.export({ type: 'spki', format: 'der' }).equals(fromKey)).toBe(true);
  });
});

describe('the DER writer', () => {
  it('encodes lengths, integers and object identifiers as X.690 says', () => {
    expect(encodeLength(5)).toEqual(Buffer.from([5]));
    expect(encodeLength(200)).toEqual(Buffer.from([0x81, 200]));
    expect(encodeLength(300)).toEqual(Buffer.from([0x82, 1, 44]));
    expect(integer(2)).toEqual(Buffer.from([0x02, 1, 2]));
    expect(integer(Buffer.from([0x80]))).toEqual(Buffer.from([0x02, 2, 0, 0x80]));
    expect(integer(Buffer.from([0, 0, 5]))).toEqual(Buffer.from([0x02, 1, 5]));
    expect(oid('1.2.840.10045.4.3.2')).toEqual(Buffer.from([0x06, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
  });
});
