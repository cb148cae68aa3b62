/**
 * Node TLS certificates as catapult expects them (symbol-facts §2), made with @peculiar/x509 on Node's WebCrypto.
 *
 * Catapult identifies a peer by the root of a 2-certificate chain: a CA self-signed with the node's *main account*
 * key (so the CA public key is the account's public key) and a node certificate for the separate node key. The
 * chain goes in `node.full.crt.pem` (node first); REST additionally reads `node.crt.pem`, `node.key.pem` and
 * `ca.crt.pem`. Shapes follow shoestring 0.2.3 `CertificateFactory.py`; see `createNodeCertificate` for the one
 * deliberate difference.
 */
import { randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves to its CommonJS build under Node ESM, and that build's DI container (tsyringe) throws at
// load time unless Reflect.getMetadata exists; the polyfill must be imported first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

import { PrivateKeySecret, publicKeyFromSpkiDer, publicKeyToPem } from './keys.js';

// x509 signs and hashes through its default provider, which on Node >= 19 is globalThis.crypto, i.e. the same
// `webcrypto` used below to import keys (the repo compiles without the DOM lib, so x509's `Crypto`-typed
// parameters cannot be passed a typed value).
const ED25519 = { name: 'Ed25519' } as const;

export const CA_CERTIFICATE_DAYS = 7300;
export const NODE_CERTIFICATE_DAYS = 375;
/** Shoestring's `health` warns when a certificate has fewer days left than this. */
export const CERTIFICATE_EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** File names inside the certificate directory (`/certificates` in the container). */
export const CERTIFICATE_FILE_NAMES = {
  caCertificate: 'ca.crt.pem',
  caPublicKey: 'ca.pubkey.pem',
  nodeCertificate: 'node.crt.pem',
  nodeFullCertificate: 'node.full.crt.pem',
  nodeKey: 'node.key.pem',
} as const;

export type CertificateErrorReason =
  | 'InvalidCommonName'
  | 'Malformed'
  | 'ChainLength'
  | 'NotEd25519'
  | 'RootNotSelfSigned'
  | 'RootNotCa'
  | 'NodeNotSignedByRoot'
  | 'NotYetValid'
  | 'Expired'
  | 'KeyMismatch';

export class CertificateError extends Error {
  override readonly name = 'CertificateError';

  constructor(
    readonly reason: CertificateErrorReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}

/** The wizard's defaults (shoestring `wizard/screens/certificates.py`). */
export function defaultCaCommonName(friendlyName: string): string {
  return `CA ${friendlyName}`;
}

export function defaultNodeCommonName(friendlyName: string, host: string): string {
  return `${friendlyName} ${host}`;
}

function commonNameToName(commonName: string): x509.Name {
  // X.520 ub-common-name is 64; openssl refuses longer CNs, and so do we rather than produce odd certificates.
  // eslint-disable-next-line no-control-regex
  if (commonName.length === 0 || [...commonName].length > 64 || /[\u0000-\u001f\u007f]/.test(commonName)) {
    throw new CertificateError(
      'InvalidCommonName',
      `common name must be 1-64 characters without control characters, got ${JSON.stringify(commonName)}`,
    );
  }
  // The JSON form with an explicit UTF8String keeps the CN opaque (a string DN would parse "," and "+") and
  // matches openssl's default encoding.
  return new x509.Name([{ CN: [{ utf8String: commonName }] }]);
}

function importSigningKey(key: PrivateKeySecret): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', key.toPkcs8Der(), ED25519, false, ['sign']);
}

function importPublicKey(publicKeyHex: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(publicKeyToPem(publicKeyHex).replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('spki', der, ED25519, true, ['verify']);
}

/** Random positive serial of exactly `bytes` octets (first octet non-zero, so DER keeps the full length). */
function randomSerialHex(bytes: number, keepTopBitClear: boolean): string {
  const serial = randomBytes(bytes);
  serial[0] = 1 + (serial[0]! % (keepTopBitClear ? 0x7f : 0xff));
  return serial.toString('hex');
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  // ASN.1 UTCTime has whole seconds; truncating here keeps the stated period exact after encoding
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

export interface CreateCaCertificateOptions {
  /** The node's main account key: the CA public key is the node's identity on the network. */
  readonly mainKey: PrivateKeySecret;
  readonly commonName: string;
  readonly days?: number;
  readonly now?: Date;
}

/** Self-signed CA, v3 with `basicConstraints=critical,CA:TRUE`, SKI and AKI(keyid), as shoestring's `ca.cnf`. */
export async function createCaCertificate(options: CreateCaCertificateOptions): Promise<string> {
  const name = commonNameToName(options.commonName);
  const publicKey = await importPublicKey(options.mainKey.publicKey);
  const ski = await x509.SubjectKeyIdentifierExtension.create(publicKey, false);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // openssl req -x509 uses a random 159-bit serial; 20 octets with the top bit clear is the same shape
    serialNumber: randomSerialHex(20, true),
    name,
    ...validity(options.now ?? new Date(), options.days ?? CA_CERTIFICATE_DAYS),
    signingAlgorithm: ED25519,
    keys: { privateKey: await importSigningKey(options.mainKey), publicKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      ski,
      new x509.AuthorityKeyIdentifierExtension(ski.keyId, false),
    ],
  });
  return certificate.toString('pem') + '\n';
}

export interface CreateNodeCertificateOptions {
  readonly caKey: PrivateKeySecret;
  readonly caCertificatePem: string;
  readonly nodePublicKey: string;
  readonly commonName: string;
  readonly days?: number;
  readonly now?: Date;
}

/**
 * Node certificate signed by the CA: 19-byte random serial (shoestring's `openssl rand -hex 19`), 375 days.
 *
 * Deliberate deviation: shoestring's node.cnf asks for `basicConstraints=CA:FALSE`, SKI and AKI, but it signs with
 * `openssl ca`, which ignores `[req] x509_extensions`, so shoestring 0.2.3 actually emits a v1 certificate with no
 * extensions. We emit the v3 certificate its config describes; catapult checks no extensions, and CA:FALSE stops
 * the node key from ever acting as a CA under OpenSSL's chain rules.
 */
export async function createNodeCertificate(options: CreateNodeCertificateOptions): Promise<string> {
  const ca = new x509.X509Certificate(options.caCertificatePem);
  if (publicKeyOfCertificate(ca) !== options.caKey.publicKey) {
    throw new CertificateError('KeyMismatch', 'CA key does not belong to the CA certificate');
  }
  const caSki = ca.getExtension(x509.SubjectKeyIdentifierExtension);
  const nodePublicKey = await importPublicKey(options.nodePublicKey);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(19, false),
    subject: commonNameToName(options.commonName),
    issuer: ca.subjectName,
    ...validity(options.now ?? new Date(), options.days ?? NODE_CERTIFICATE_DAYS),
    signingAlgorithm: ED25519,
    publicKey: nodePublicKey,
    signingKey: await importSigningKey(options.caKey),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, false),
      await x509.SubjectKeyIdentifierExtension.create(nodePublicKey, false),
      caSki
        ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId, false)
        : await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey, false),
    ],
  });
  return certificate.toString('pem') + '\n';
}

export interface CertificateSet {
  readonly caCertificatePem: string;
  readonly caPublicKeyPem: string;
  readonly nodeCertificatePem: string;
  /** Node certificate, then CA certificate: the chain catapult presents to peers. */
  readonly nodeFullCertificatePem: string;
  readonly nodeKey: PrivateKeySecret;
}

export interface CreateCertificateSetOptions {
  readonly mainKey: PrivateKeySecret;
  readonly nodeKey: PrivateKeySecret;
  readonly friendlyName: string;
  readonly host: string;
  readonly caCommonName?: string;
  readonly nodeCommonName?: string;
  /** Keep this CA certificate (renewal of the node certificate only, like `renew-certificates` without `--renew-ca`). */
  readonly caCertificatePem?: string;
  readonly now?: Date;
}

export async function createCertificateSet(options: CreateCertificateSetOptions): Promise<CertificateSet> {
  const now = options.now ?? new Date();
  const caCertificatePem =
    options.caCertificatePem ??
    (await createCaCertificate({
      mainKey: options.mainKey,
      commonName: options.caCommonName ?? defaultCaCommonName(options.friendlyName),
      now,
    }));
  const nodeCertificatePem = await createNodeCertificate({
    caKey: options.mainKey,
    caCertificatePem,
    nodePublicKey: options.nodeKey.publicKey,
    commonName: options.nodeCommonName ?? defaultNodeCommonName(options.friendlyName, options.host),
    now,
  });
  return {
    caCertificatePem,
    caPublicKeyPem: publicKeyToPem(options.mainKey.publicKey),
    nodeCertificatePem,
    nodeFullCertificatePem: nodeCertificatePem + caCertificatePem,
    nodeKey: options.nodeKey,
  };
}

/**
 * The five files of the certificate directory. Contains the node private key in clear (`node.key.pem`):
 * the result belongs in a Kubernetes Secret, never a ConfigMap or a log.
 */
export function certificateDirectoryFiles(set: CertificateSet): Map<string, string> {
  return new Map([
    [CERTIFICATE_FILE_NAMES.caCertificate, set.caCertificatePem],
    [CERTIFICATE_FILE_NAMES.caPublicKey, set.caPublicKeyPem],
    [CERTIFICATE_FILE_NAMES.nodeCertificate, set.nodeCertificatePem],
    [CERTIFICATE_FILE_NAMES.nodeFullCertificate, set.nodeFullCertificatePem],
    [CERTIFICATE_FILE_NAMES.nodeKey, set.nodeKey.toPem()],
  ]);
}

export interface CertificateInfo {
  readonly subjectCommonName: string | undefined;
  readonly issuerCommonName: string | undefined;
  /** Lowercase hex without a DER sign octet. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Uppercase hex of the raw Ed25519 key; undefined when the key is not Ed25519. */
  readonly publicKey: string | undefined;
  readonly isEd25519: boolean;
  /** basicConstraints cA flag; undefined when the extension is absent (v1 certificates). */
  readonly isCa: boolean | undefined;
  /** Issuer equals subject and the signature verifies with the certificate's own key. */
  readonly selfSigned: boolean;
}

function publicKeyOfCertificate(certificate: x509.X509Certificate): string | undefined {
  try {
    return publicKeyFromSpkiDer(new Uint8Array(certificate.publicKey.rawData));
  } catch {
    return undefined;
  }
}

function parseCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch (error) {
    throw new CertificateError('Malformed', `cannot parse certificate: ${(error as Error).message}`);
  }
}

async function signedBy(certificate: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (!Buffer.from(certificate.issuerName.toArrayBuffer()).equals(Buffer.from(issuer.subjectName.toArrayBuffer())))
    return false;
  try {
    return await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

async function describe(certificate: x509.X509Certificate): Promise<CertificateInfo> {
  const publicKey = publicKeyOfCertificate(certificate);
  const isEd25519 = publicKey !== undefined && (certificate.signatureAlgorithm as { name?: string }).name === 'Ed25519';
  return {
    subjectCommonName: certificate.subjectName.getField('CN')[0],
    issuerCommonName: certificate.issuerName.getField('CN')[0],
    serialNumber: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    publicKey,
    isEd25519,
    isCa: certificate.getExtension(x509.BasicConstraintsExtension)?.ca,
    selfSigned: await signedBy(certificate, certificate),
  };
}

/** Subject, validity and key of one PEM certificate, for renewal decisions. */
export async function readCertificate(pem: string): Promise<CertificateInfo> {
  return describe(parseCertificate(pem));
}

export function splitPemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** Whole days left (negative once expired). */
export function daysUntilExpiry(info: Pick<CertificateInfo, 'notAfter'>, now = new Date()): number {
  return Math.floor((info.notAfter.getTime() - now.getTime()) / DAY_MS);
}

export interface VerifyChainOptions {
  readonly now?: Date;
  /** When given, the chain must be for this node key / main account. */
  readonly expectedNodePublicKey?: string;
  readonly expectedCaPublicKey?: string;
}

export interface VerifiedChain {
  readonly node: CertificateInfo;
  readonly ca: CertificateInfo;
}

/**
 * The checks catapult applies to a peer's chain (CAT `CatapultCertificateProcessor.cpp`): exactly two
 * certificates, both Ed25519, a self-signed root that signed the node certificate; plus what OpenSSL's chain
 * building adds (validity period, a root that is not marked CA:FALSE). Throws `CertificateError`.
 */
export async function verifyCatapultChain(
  fullChainPem: string,
  options: VerifyChainOptions = {},
): Promise<VerifiedChain> {
  const pems = splitPemCertificates(fullChainPem);
  if (pems.length !== 2)
    throw new CertificateError(
      'ChainLength',
      `chain has ${pems.length} certificates, catapult requires exactly 2 (node, CA)`,
    );
  const [nodeCertificate, caCertificate] = pems.map(parseCertificate) as [x509.X509Certificate, x509.X509Certificate];
  const [node, ca] = [await describe(nodeCertificate), await describe(caCertificate)];

  if (!node.isEd25519 || !ca.isEd25519)
    throw new CertificateError('NotEd25519', 'both certificates must carry and be signed with Ed25519 keys');
  if (!ca.selfSigned)
    throw new CertificateError('RootNotSelfSigned', `second certificate (${ca.subjectCommonName}) is not self-signed`);
  if (ca.isCa === false)
    throw new CertificateError('RootNotCa', `root (${ca.subjectCommonName}) has basicConstraints CA:FALSE`);
  if (!(await signedBy(nodeCertificate, caCertificate))) {
    throw new CertificateError(
      'NodeNotSignedByRoot',
      `node certificate (${node.subjectCommonName}) is not signed by ${ca.subjectCommonName}`,
    );
  }
  const now = options.now ?? new Date();
  for (const [label, info] of [
    ['node', node],
    ['CA', ca],
  ] as const) {
    if (now < info.notBefore)
      throw new CertificateError('NotYetValid', `${label} certificate is valid from ${info.notBefore.toISOString()}`);
    if (now > info.notAfter)
      throw new CertificateError('Expired', `${label} certificate expired at ${info.notAfter.toISOString()}`);
  }
  if (options.expectedNodePublicKey && options.expectedNodePublicKey.toUpperCase() !== node.publicKey) {
    throw new CertificateError(
      'KeyMismatch',
      `node certificate key ${node.publicKey} is not the expected node key ${options.expectedNodePublicKey}`,
    );
  }
  if (options.expectedCaPublicKey && options.expectedCaPublicKey.toUpperCase() !== ca.publicKey) {
    throw new CertificateError(
      'KeyMismatch',
      `CA certificate key ${ca.publicKey} is not the expected main account key ${options.expectedCaPublicKey}`,
    );
  }
  return { node, ca };
}
