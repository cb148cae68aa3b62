/** The final secret scan's key extraction and search (test/support/secretLedger.ts, test/support/secretScan.ts). */
import { defaultPayloadConverter } from '@temporalio/common';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { privateKeysIn, type RecordedKey } from '../support/secretLedger.js';
import { KeyIndex, textsOf } from '../support/secretScan.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const key = (): RecordedKey => ({
  namespace: 'ns',
  secret: 's',
  dataKey: 'k',
  hex: randomBytes(32).toString('hex').toUpperCase(),
});

void describe('privateKeysIn', () => {
  void it('finds identity, harvesting (signing and VRF) and PEM keys, and no public ones', () => {
    const main = key().hex;
    const signing = key().hex;
    const vrf = key().hex;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const raw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16).toString('hex').toUpperCase();
    const found = privateKeysIn({
      metadata: { namespace: 'ns', name: 'node-a' },
      data: {
        privateKey: b64(main.toLowerCase()),
        'config-harvesting.properties': b64(
          `[harvesting]\nharvesterSigningPrivateKey = ${signing}\nharvesterVrfPrivateKey = ${vrf}\nenableAutoHarvesting = true\n`,
        ),
        'node.key.pem': b64(pem),
        'node.pubkey.pem': b64(publicKey.export({ format: 'pem', type: 'spki' }).toString()),
        'ca.crt.pem': b64('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
      },
    });
    assert.deepEqual(found.map((k) => k.hex).sort(), [main, signing, vrf, raw].sort());
    assert.equal(found.find((k) => k.dataKey === 'node.key.pem')?.pem, pem.split('\n').slice(1, -2).join(''));
  });
});

void describe('KeyIndex', () => {
  const a = key();
  const index = new KeyIndex([a]);
  const raw = Buffer.from(a.hex, 'hex');

  void it('finds a key as hex in either case, base64, base64url, alone or inside a longer run', () => {
    assert.deepEqual(
      index.find(`x=${a.hex.toLowerCase()}`).map((h) => h.form),
      ['hex'],
    );
    assert.deepEqual(
      index.find(`"${'ab'.repeat(10)}${a.hex}${'cd'.repeat(10)}"`).map((h) => h.form),
      ['hex'],
    );
    // The two are the same text when the key's base64 has no '+' or '/' (then it is reported as base64).
    assert.ok(index.find(`k: ${raw.toString('base64')}`).some((h) => h.form === 'base64'));
    assert.ok(index.find(`k: ${raw.toString('base64url')}`).some((h) => h.form.startsWith('base64')));
    for (let i = 0; i < 200; i++) {
      const k = key();
      const r = Buffer.from(k.hex, 'hex');
      const one = new KeyIndex([k]);
      assert.equal(one.find(r.toString('base64')).length, 1, 'base64');
      assert.equal(one.find(`"${r.toString('base64url')}"`).length, 1, 'base64url');
    }
    assert.deepEqual(index.find(`${a.hex.slice(0, 63)} ${key().hex}`), []);
  });

  void it('finds a key in a history event: a JSON payload holding it as a byte array, or a binary payload', () => {
    const counts = { payloads: 0, undecodable: 0 };
    const event = {
      eventId: 7,
      workflowExecutionStartedEventAttributes: {
        input: { payloads: [defaultPayloadConverter.toPayload({ note: 'x', key: new Uint8Array(raw) })] },
      },
      markerRecordedEventAttributes: { details: { data: { payloads: [defaultPayloadConverter.toPayload(raw)] } } },
    };
    const texts = textsOf(event, counts);
    assert.equal(counts.payloads, 2);
    assert.equal(counts.undecodable, 0);
    assert.ok(texts.some((t) => index.find(t).length > 0));
    const found = (value: unknown) => textsOf(value, counts).some((t) => index.find(t).length > 0);
    assert.ok(found(event.workflowExecutionStartedEventAttributes), 'as a byte array inside JSON');
    assert.ok(found(event.markerRecordedEventAttributes), 'as a binary/plain payload');
    assert.equal(
      textsOf({ payloads: [defaultPayloadConverter.toPayload({ ok: true })] }, counts).filter(
        (t) => index.find(t).length > 0,
      ).length,
      0,
    );
  });
});
