// A certificate authority and a serving certificate for 127.0.0.1 and localhost, made with node:crypto and a small
// DER writer. The CA goes into the kubeconfig as certificate-authority-data, so clients verify the server exactly as
// they would a real cluster's (Go's TLS stack in kubectl included: SANs, key usages, basic constraints).
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, boolean, explicit, implicitPrimitive, integer, namedBits, octetString, oid, sequence, set, time, utf8String } from './der.ts';

export interface TlsMaterial {
  /** PEM of the CA certificate (for kubeconfig certificate-authority-data, base64 of this). */
  caCert: string;
  /** PEM certificate and PKCS#8 key the API servers present. */
  cert: string;
  key: string;
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function name(commonName: string): Buffer {
  return sequence(set(sequence(oid('2.5.4.10'), utf8String('kube-sim'))), set(sequence(oid('2.5.4.3'), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function keyIdentifier(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

function toPem(der: Buffer, label: string): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

interface CertificateRequest {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  issuerKeyId: Buffer;
  ca: boolean;
  ips?: string[];
  dnsNames?: string[];
}

function certificate(request: CertificateRequest): Buffer {
  const spki = request.publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const extensions: Buffer[] = [
    extension('2.5.29.19', true, request.ca ? sequence(boolean(true)) : sequence()),
    // digitalSignature (0), and for the CA keyCertSign (5) and cRLSign (6).
    extension('2.5.29.15', true, namedBits(request.ca ? [0, 5, 6] : [0])),
    extension('2.5.29.14', false, octetString(keyIdentifier(spkiBits(spki)))),
    extension('2.5.29.35', false, sequence(implicitPrimitive(0, request.issuerKeyId))),
  ];
  if (!request.ca) {
    extensions.push(extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))));
    const names = [
      ...(request.dnsNames ?? []).map((dns) => implicitPrimitive(2, Buffer.from(dns, 'ascii'))),
      ...(request.ips ?? []).map((ip) => implicitPrimitive(7, Buffer.from(ip.split('.').map(Number)))),
    ];
    extensions.push(extension('2.5.29.17', false, sequence(...names)));
  }
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    ECDSA_WITH_SHA256,
    name(request.issuer),
    // An hour of slack for clocks that disagree; ten years, since a simulation's CA is thrown away with it.
    sequence(time(new Date(now - 3_600_000)), time(new Date(now + 10 * 365 * 86_400_000))),
    name(request.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, request.signingKey);
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
}

/** The subjectPublicKey bits inside a SubjectPublicKeyInfo, which is what key identifiers hash (RFC 5280, method 1). */
function spkiBits(spki: Buffer): Buffer {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header and the algorithm, then the bit string header.
  let offset = headerLength(spki, 0);
  offset += totalLength(spki, offset);
  const bitsHeader = headerLength(spki, offset);
  return spki.subarray(offset + bitsHeader + 1);
}

function headerLength(der: Buffer, offset: number): number {
  const first = der[offset + 1]!;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function totalLength(der: Buffer, offset: number): number {
  const first = der[offset + 1]!;
  if (first < 0x80) return 2 + first;
  let length = 0;
  for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[offset + 2 + i]!;
  return 2 + (first & 0x7f) + length;
}

/** A fresh CA and a serving certificate signed by it, valid for 127.0.0.1 and localhost. */
export function generateTlsMaterial(): TlsMaterial {
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const server = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caSpki = ca.publicKey.export({ type: 'spki', format: 'der' });
  const caKeyId = keyIdentifier(spkiBits(caSpki));
  const caDer = certificate({ subject: 'kube-sim-ca', issuer: 'kube-sim-ca', publicKey: ca.publicKey, signingKey: ca.privateKey, issuerKeyId: caKeyId, ca: true });
  const serverDer = certificate({
    subject: 'kube-sim-apiserver',
    issuer: 'kube-sim-ca',
    publicKey: createPublicKey(server.privateKey),
    signingKey: ca.privateKey,
    issuerKeyId: caKeyId,
    ca: false,
    ips: ['127.0.0.1'],
    dnsNames: ['localhost'],
  });
  return {
    caCert: toPem(caDer, 'CERTIFICATE'),
    cert: toPem(serverDer, 'CERTIFICATE'),
    key: server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
