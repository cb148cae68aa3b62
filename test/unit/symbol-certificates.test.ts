import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';

import {
  CertificateError,
  type CertificateSet,
  certificateDirectoryFiles,
  createCertificateSet,
  daysUntilExpiry,
  readCertificate,
  splitPemCertificates,
  verifyCatapultChain,
} from '../../symbol/certificates.js';
import { PrivateKeySecret } from '../../symbol/keys.js';

const DAY = 86_400_000;
const scratch = mkdtempSync(join(tmpdir(), 'symbol-cert-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** Writes the certificate directory to disk so the openssl CLI (the oracle) can read it. */
function writeDirectory(set: CertificateSet): string {
  const dir = join(scratch, `set-${(counter += 1)}`);
  execFileSync('mkdir', ['-p', dir]);
  for (const [name, content] of certificateDirectoryFiles(set)) writeFileSync(join(dir, name), content);
  return dir;
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function rejectsWith(reason: CertificateError['reason']) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof CertificateError, `expected CertificateError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    return true;
  };
}

async function newSet(
  friendlyName = 'alpha',
  host = 'alpha.example.org',
  now?: Date,
): Promise<{ set: CertificateSet; mainKey: PrivateKeySecret }> {
  const mainKey = PrivateKeySecret.generate();
  const set = await createCertificateSet({
    mainKey,
    nodeKey: PrivateKeySecret.generate(),
    friendlyName,
    host,
    ...(now ? { now } : {}),
  });
  return { set, mainKey };
}

void describe('node certificates', () => {
  let set: CertificateSet;
  let mainKey: PrivateKeySecret;
  let dir: string;
  const createdAt = new Date();

  before(async () => {
    ({ set, mainKey } = await newSet());
    dir = writeDirectory(set);
  });

  void it('pass `openssl verify -CAfile ca.crt.pem node.crt.pem`', () => {
    const out = openssl('verify', '-CAfile', join(dir, 'ca.crt.pem'), join(dir, 'node.crt.pem'));
    assert.match(out, /node\.crt\.pem: OK/);
  });

  void it('chain node.full.crt.pem = node certificate, then CA certificate', () => {
    const [first, second, ...rest] = splitPemCertificates(set.nodeFullCertificatePem);
    assert.equal(rest.length, 0);
    assert.equal(
      new X509Certificate(first!).fingerprint256,
      new X509Certificate(set.nodeCertificatePem).fingerprint256,
    );
    assert.equal(new X509Certificate(second!).fingerprint256, new X509Certificate(set.caCertificatePem).fingerprint256);
    // openssl agrees the second certificate issued the first
    writeFileSync(join(dir, 'chain-ca.pem'), second!);
    writeFileSync(join(dir, 'chain-node.pem'), first!);
    assert.match(openssl('verify', '-CAfile', join(dir, 'chain-ca.pem'), join(dir, 'chain-node.pem')), /OK/);
  });

  void it('CA key is the main account key, node certificate key is node.key.pem', () => {
    const caCertKey = openssl('x509', '-in', join(dir, 'ca.crt.pem'), '-noout', '-pubkey');
    const nodeCertKey = openssl('x509', '-in', join(dir, 'node.crt.pem'), '-noout', '-pubkey');
    assert.equal(caCertKey, openssl('pkey', '-in', join(dir, 'ca.pubkey.pem'), '-pubin', '-pubout'));
    assert.equal(nodeCertKey, openssl('pkey', '-in', join(dir, 'node.key.pem'), '-pubout'));
    assert.equal(caCertKey, createPublicKey(createPrivateKey(mainKey.toPem())).export({ type: 'spki', format: 'pem' }));
    assert.notEqual(caCertKey, nodeCertKey);
  });

  void it('validity: CA 7300 days, node 375 days, starting now', () => {
    const ca = new X509Certificate(set.caCertificatePem);
    const node = new X509Certificate(set.nodeCertificatePem);
    for (const cert of [ca, node]) assert.ok(Math.abs(Date.parse(cert.validFrom) - createdAt.getTime()) < 60_000);
    assert.equal((Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / DAY, 7300);
    assert.equal((Date.parse(node.validTo) - Date.parse(node.validFrom)) / DAY, 375);
  });

  void it('extensions and names as shoestring declares them', () => {
    const caText = openssl('x509', '-in', join(dir, 'ca.crt.pem'), '-noout', '-text');
    const nodeText = openssl('x509', '-in', join(dir, 'node.crt.pem'), '-noout', '-text');
    assert.match(caText, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(nodeText, /X509v3 Basic Constraints: ?\s+CA:FALSE/);
    const ski = /Subject Key Identifier: ?\s+([0-9A-F:]+)/.exec(caText)![1];
    assert.equal(/Authority Key Identifier: ?\s+(?:keyid:)?([0-9A-F:]+)/.exec(caText)![1], ski, 'CA AKI = own SKI');
    assert.equal(/Authority Key Identifier: ?\s+(?:keyid:)?([0-9A-F:]+)/.exec(nodeText)![1], ski, 'node AKI = CA SKI');
    assert.match(caText, /Subject: CN ?= ?CA alpha\n/);
    assert.match(nodeText, /Subject: CN ?= ?alpha alpha\.example\.org\n/);
    assert.match(nodeText, /Issuer: CN ?= ?CA alpha\n/);
    assert.equal(new X509Certificate(set.nodeCertificatePem).serialNumber.length, 38, '19-byte serial');
  });

  void it('reads subject, expiry and key back for renewal decisions', async () => {
    const info = await readCertificate(set.nodeCertificatePem);
    assert.equal(info.subjectCommonName, 'alpha alpha.example.org');
    assert.equal(info.issuerCommonName, 'CA alpha');
    assert.equal(info.publicKey, set.nodeKey.publicKey);
    assert.equal(info.isCa, false);
    assert.equal(info.selfSigned, false);
    assert.equal(info.serialNumber, new X509Certificate(set.nodeCertificatePem).serialNumber.toLowerCase());
    assert.equal(daysUntilExpiry(info, info.notBefore), 375);
    assert.equal(daysUntilExpiry(info, new Date(info.notAfter.getTime() - 1)), 0);
    assert.equal(daysUntilExpiry(info, new Date(info.notAfter.getTime() + DAY)), -1);
    const ca = await readCertificate(set.caCertificatePem);
    assert.equal(ca.publicKey, mainKey.publicKey);
    assert.equal(ca.selfSigned, true);
  });

  void it('accepts its own chain with the checks catapult applies', async () => {
    const { node, ca } = await verifyCatapultChain(set.nodeFullCertificatePem, {
      expectedNodePublicKey: set.nodeKey.publicKey,
      expectedCaPublicKey: mainKey.publicKey,
    });
    assert.equal(node.publicKey, set.nodeKey.publicKey);
    assert.equal(ca.publicKey, mainKey.publicKey);
  });

  void it('renews the node certificate under the existing CA', async () => {
    const renewed = await createCertificateSet({
      mainKey,
      nodeKey: set.nodeKey,
      friendlyName: 'alpha',
      host: 'alpha.example.org',
      caCertificatePem: set.caCertificatePem,
      now: new Date(createdAt.getTime() + 300 * DAY),
    });
    assert.equal(renewed.caCertificatePem, set.caCertificatePem);
    assert.notEqual(renewed.nodeCertificatePem, set.nodeCertificatePem);
    await verifyCatapultChain(renewed.nodeFullCertificatePem, { now: new Date(createdAt.getTime() + 301 * DAY) });
    await assert.rejects(
      createCertificateSet({
        mainKey: PrivateKeySecret.generate(),
        nodeKey: set.nodeKey,
        friendlyName: 'a',
        host: 'b',
        caCertificatePem: set.caCertificatePem,
      }),
      rejectsWith('KeyMismatch'),
    );
  });
});

void describe('catapult chain rules', () => {
  void it('rejects chains that are not exactly node + self-signed root', async () => {
    const { set } = await newSet();
    const { set: other } = await newSet('beta', 'beta.example.org');
    await assert.rejects(verifyCatapultChain(set.nodeCertificatePem), rejectsWith('ChainLength'));
    await assert.rejects(
      verifyCatapultChain(set.nodeFullCertificatePem + set.caCertificatePem),
      rejectsWith('ChainLength'),
    );
    await assert.rejects(
      verifyCatapultChain(set.caCertificatePem + set.nodeCertificatePem),
      rejectsWith('RootNotSelfSigned'),
    );
    await assert.rejects(
      verifyCatapultChain(set.nodeCertificatePem + other.caCertificatePem),
      rejectsWith('NodeNotSignedByRoot'),
    );
    await assert.rejects(
      verifyCatapultChain(set.nodeFullCertificatePem, { expectedNodePublicKey: other.nodeKey.publicKey }),
      rejectsWith('KeyMismatch'),
    );
  });

  void it('rejects expired and not yet valid certificates', async () => {
    const { set } = await newSet();
    await assert.rejects(
      verifyCatapultChain(set.nodeFullCertificatePem, { now: new Date(Date.now() + 376 * DAY) }),
      rejectsWith('Expired'),
    );
    await assert.rejects(
      verifyCatapultChain(set.nodeFullCertificatePem, { now: new Date(Date.now() - DAY) }),
      rejectsWith('NotYetValid'),
    );
  });

  void it('rejects non-Ed25519 chains (made by openssl)', async () => {
    const dir = join(scratch, 'ec');
    execFileSync('mkdir', ['-p', dir]);
    const key = join(dir, 'ec.key.pem');
    const cert = join(dir, 'ec.crt.pem');
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=ec',
      '-days',
      '1',
    );
    const { set } = await newSet();
    const ecPem = execFileSync('cat', [cert], { encoding: 'utf8' });
    await assert.rejects(verifyCatapultChain(set.nodeCertificatePem + ecPem), rejectsWith('NotEd25519'));
  });

  void it('keeps common names opaque: commas and plus signs do not create extra RDNs', async () => {
    const { set } = await newSet('evil, O=Injected + OU=x', 'host.example.org');
    const subject = new X509Certificate(set.caCertificatePem).subject;
    assert.equal(subject, 'CN=CA evil\\, O=Injected \\+ OU=x', 'OpenSSL escapes them as parts of one value');
    const text = openssl(
      'x509',
      '-noout',
      '-subject',
      '-nameopt',
      'multiline',
      '-in',
      writeDirectory(set) + '/ca.crt.pem',
    );
    const attributes = text.split('\n').filter((line) => /^\s+\w+\s+= /.test(line));
    assert.deepEqual(
      attributes.map((line) => line.trim().split(/\s+/)[0]),
      ['commonName'],
      text,
    );
    await assert.rejects(newSet('x'.repeat(70)), rejectsWith('InvalidCommonName'));
    await assert.rejects(newSet('line\nbreak'), rejectsWith('InvalidCommonName'));
  });
});

void describe('TLS between two node identities (OpenSSL through node:tls)', () => {
  void it('completes a mutually authenticated TLS 1.3 / X25519 handshake', async () => {
    const { set: a } = await newSet('alpha', 'alpha.example.org');
    const { set: b } = await newSet('beta', 'beta.example.org');
    // each side trusts only the other's CA, as a catapult node pins nothing but checks the chain shape
    const options = (own: CertificateSet, peer: CertificateSet) => ({
      key: own.nodeKey.toPem(),
      cert: own.nodeFullCertificatePem,
      ca: peer.caCertificatePem,
      minVersion: 'TLSv1.3' as const,
      ecdhCurve: 'X25519',
      rejectUnauthorized: true,
    });
    const server = tls.createServer({ ...options(a, b), requestCert: true });
    const serverSaw = new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
      server.once('secureConnection', (socket) => {
        resolve(socket.getPeerCertificate(true));
        socket.end();
      });
      server.once('tlsClientError', reject);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const clientSaw = await new Promise<{ peer: tls.DetailedPeerCertificate; protocol: string | null }>(
        (resolve, reject) => {
          const client = tls.connect(
            { ...options(b, a), host: '127.0.0.1', port, checkServerIdentity: () => undefined },
            () => {
              resolve({ peer: client.getPeerCertificate(true), protocol: client.getProtocol() });
              client.end();
            },
          );
          client.once('error', reject);
        },
      );
      const fromClient = await serverSaw;
      assert.equal(clientSaw.protocol, 'TLSv1.3');
      assert.equal(clientSaw.peer.subject.CN, 'alpha alpha.example.org');
      assert.equal(clientSaw.peer.issuerCertificate.subject.CN, 'CA alpha');
      assert.equal(fromClient.subject.CN, 'beta beta.example.org');
      assert.equal(fromClient.issuerCertificate.subject.CN, 'CA beta');
    } finally {
      server.close();
    }
  });
});
