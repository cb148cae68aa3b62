import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { format, inspect } from 'node:util';
import { describe, it } from 'node:test';

import {
  KeyError,
  PrivateKeySecret,
  REDACTED,
  addressOf,
  generateNodeAccounts,
  harvestingKeysFromProperties,
  publicKeyFromPem,
  publicKeyToPem,
} from '../../symbol/keys.js';

/** Public key via OpenSSL (Node's crypto), independent of symbol-sdk. */
function opensslPublicKey(privateKeyPem: string): string {
  const spki = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
  return spki
    .subarray(spki.length - 32)
    .toString('hex')
    .toUpperCase();
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes: Uint8Array): string {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += BASE32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

/** Symbol address from its definition: base32(network byte ‖ RIPEMD160(SHA3-256(pk)) ‖ 3-byte SHA3 checksum). */
function referenceAddress(publicKeyHex: string, networkIdentifier: number): string {
  const hash = createHash('ripemd160')
    .update(createHash('sha3-256').update(Buffer.from(publicKeyHex, 'hex')).digest())
    .digest();
  const header = Buffer.concat([Buffer.from([networkIdentifier]), hash]);
  const checksum = createHash('sha3-256').update(header).digest().subarray(0, 3);
  return base32(Buffer.concat([header, checksum]));
}

void describe('Symbol keys', () => {
  void it('derives the same public key as OpenSSL', () => {
    for (let i = 0; i < 5; i += 1) {
      const secret = PrivateKeySecret.generate();
      assert.equal(secret.publicKey, opensslPublicKey(secret.toPem()));
    }
  });

  void it('reads keys written by openssl genpkey and writes PEM openssl reads back', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const secret = PrivateKeySecret.fromPem(pem);
    assert.equal(secret.toPem(), pem, 'byte-identical PKCS#8 PEM');
    assert.equal(secret.publicKey, opensslPublicKey(pem));
    assert.ok(PrivateKeySecret.fromHex(secret.revealHex()).equals(secret));
  });

  void it('rejects PEMs that are not unencrypted Ed25519 PKCS#8 keys', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    assert.throws(() => PrivateKeySecret.fromPem(ec), KeyError);
    assert.throws(
      () => PrivateKeySecret.fromPem(`-----${'BEGIN'} PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`), // a malformed stub, no key
      KeyError,
    );
    assert.throws(() => PrivateKeySecret.fromHex('00'.repeat(31)), KeyError);
    assert.throws(() => PrivateKeySecret.fromHex('zz'.repeat(32)), KeyError);
  });

  void it('computes addresses as the Symbol address definition says', () => {
    const secret = PrivateKeySecret.generate();
    const mainnet = addressOf(secret.publicKey, 'mainnet');
    const testnet = addressOf(secret.publicKey, 'sai');
    assert.equal(mainnet, referenceAddress(secret.publicKey, 0x68));
    assert.equal(testnet, referenceAddress(secret.publicKey, 0x98));
    assert.match(mainnet, /^N[A-Z2-7]{38}$/);
    assert.match(testnet, /^T[A-Z2-7]{38}$/);
    const custom = { name: 'private', identifier: 0xa8, epochAdjustment: 1, generationHashSeed: '00'.repeat(32) };
    assert.equal(addressOf(secret.publicKey, custom), referenceAddress(secret.publicKey, 0xa8));
  });

  void it('converts public keys to and from the SPKI PEM of ca.pubkey.pem', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const hex = publicKeyFromPem(pem);
    assert.equal(hex, opensslPublicKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
    assert.equal(publicKeyToPem(hex), pem);
  });

  void it('generates four distinct accounts for a node', () => {
    const accounts = generateNodeAccounts('sai');
    assert.deepEqual(Object.keys(accounts).sort(), ['main', 'node', 'remote', 'vrf']);
    assert.equal(new Set(Object.values(accounts).map((account) => account.publicKey)).size, 4);
    for (const account of Object.values(accounts)) {
      assert.equal(account.address, referenceAddress(account.publicKey, 0x98));
      assert.equal(account.privateKey.publicKey, account.publicKey);
    }
  });

  void it('never prints the private key by accident', () => {
    const accounts = generateNodeAccounts('mainnet', ['main', 'node']);
    const secret = accounts.main.privateKey;
    const hex = secret.revealHex();
    const base64 = Buffer.from(hex, 'hex').toString('base64');
    const renderings = [
      String(secret),
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the accident under test
      `${secret}`,
      `${accounts.main.privateKey as unknown as string}`,
      JSON.stringify(accounts),
      JSON.stringify({ nested: { secret } }),
      inspect(accounts, { depth: 10, showHidden: true }),
      format('%o %O %s %j', secret, accounts, secret, accounts),
      Object.entries(secret).join(','),
      String(Object.getOwnPropertyNames(secret).map((name) => (secret as unknown as Record<string, unknown>)[name])),
    ];
    for (const text of renderings) {
      assert.ok(!text.toUpperCase().includes(hex), `hex leaked: ${text}`);
      assert.ok(!text.includes(base64.slice(0, 20)), `base64 leaked: ${text}`);
      assert.ok(!text.includes(secret.toPem().split('\n')[1]!), `PEM leaked: ${text}`);
    }
    assert.equal(String(secret), REDACTED);
    assert.ok(JSON.stringify(accounts).includes(accounts.main.publicKey), 'public data stays visible');
    assert.equal(inspect(secret), REDACTED);
  });
});

void describe('harvesting keys read back from config-harvesting.properties', () => {
  const signing = PrivateKeySecret.generate();
  const vrf = PrivateKeySecret.generate();
  const file = (signingValue: string, vrfValue: string): string =>
    `[harvesting]\n\nharvesterSigningPrivateKey = ${signingValue}\nharvesterVrfPrivateKey = ${vrfValue}\n` +
    'enableAutoHarvesting = true\n';

  void it('reads both keys', () => {
    const keys = harvestingKeysFromProperties(file(signing.revealHex(), vrf.revealHex().toLowerCase()));
    assert.ok(keys.signingKey.equals(signing));
    assert.ok(keys.vrfKey.equals(vrf));
  });

  void it('says precisely what is wrong, never quoting a value', () => {
    const cases: [string, RegExp][] = [
      [file(signing.revealHex(), ''), /^config-harvesting\.properties has no \[harvesting\] harvesterVrfPrivateKey$/],
      [file('', vrf.revealHex()), /has no \[harvesting\] harvesterSigningPrivateKey$/],
      [file(signing.revealHex().slice(1), vrf.revealHex()), /harvesterSigningPrivateKey .* is not 64 hex digits$/],
      [file(signing.revealHex(), `${vrf.revealHex()}Z`), /harvesterVrfPrivateKey .* is not 64 hex digits$/],
      [`harvesterSigningPrivateKey = ${signing.revealHex()}\n`, /is not a readable properties file \(Syntax\)$/],
      [
        `[harvesting]\nharvesterVrfPrivateKey = ${vrf.revealHex()}\n`,
        /has no \[harvesting\] harvesterSigningPrivateKey/,
      ],
      ['', /has no \[harvesting\] harvesterSigningPrivateKey/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => harvestingKeysFromProperties(text),
        (error: unknown) => {
          assert.ok(error instanceof KeyError, String(error));
          assert.match(error.message, message);
          for (const hex of [signing.revealHex(), vrf.revealHex()])
            assert.ok(!error.message.toUpperCase().includes(hex.slice(1, 20)), `leaks a key: ${error.message}`);
          return true;
        },
      );
    }
  });
});
