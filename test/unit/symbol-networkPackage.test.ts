import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { Network } from 'symbol-sdk/symbol';

import {
  NETWORK_PACKAGE_PRESETS,
  NetworkPackageError,
  loadNetworkPackageFromDirectory,
  loadNetworkPackageFromZip,
  loadPresetNetworkPackage,
  parseShoestringIni,
  verifyChecksum,
} from '../../symbol/networkPackage.js';
import { saiPackageDir, saiPackageZip } from '../support/paths.js';

const saiZip = new Uint8Array(readFileSync(saiPackageZip));
const scratch = mkdtempSync(join(tmpdir(), 'symbol-package-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function isPackageError(reason: NetworkPackageError['reason']) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof NetworkPackageError, `expected NetworkPackageError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    assert.ok(!error.message.includes('\n'), 'message is one line');
    return true;
  };
}

function corrupted(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  // flip a byte inside the data of some entry rather than in a header, so only the checksum can notice
  copy[Math.floor(copy.length / 3)]! ^= 0x01;
  return copy;
}

void describe('network package loading', () => {
  void it('loads the sai zip and strips GitHub\'s "networks-sai/" wrapper directory', () => {
    const pkg = loadNetworkPackageFromZip(saiZip);
    assert.ok(pkg.has('shoestring.ini'));
    assert.ok(pkg.has('resources/config-node.properties'));
    assert.ok(pkg.has('seed/00000/00001.dat'));
    assert.ok(![...pkg.files.keys()].some((path) => path.startsWith('networks-sai')));
  });

  void it('reads the same files from the zip and from the unpacked directory', async () => {
    const fromZip = loadNetworkPackageFromZip(saiZip);
    const fromDir = await loadNetworkPackageFromDirectory(saiPackageDir);
    assert.deepEqual([...fromDir.files.keys()].sort(), [...fromZip.files.keys()].sort());
    for (const [path, bytes] of fromZip.files)
      assert.ok(Buffer.from(bytes).equals(Buffer.from(fromDir.bytes(path))), path);
  });

  void it('parses shoestring.ini into the network symbol-sdk knows as testnet (= sai)', () => {
    const { network, images } = loadNetworkPackageFromZip(saiZip).shoestring;
    const sdk = Network.TESTNET;
    assert.equal(network.name, sdk.name);
    assert.equal(network.identifier, sdk.identifier);
    assert.equal(network.generationHashSeed, sdk.generationHashSeed.toString());
    assert.equal(network.epochAdjustment * 1000, sdk.datetimeConverter.epoch.getTime());
    assert.match(images.client, /^symbolplatform\/symbol-server:/);
    assert.match(images.rest, /^symbolplatform\/symbol-rest:/);
    assert.match(images.mongo, /^mongo:/);
  });

  void it('rejects a shoestring.ini with a broken network section', () => {
    const ini = readFileSync(join(saiPackageDir, 'shoestring.ini'), 'utf8');
    assert.throws(
      () => parseShoestringIni(ini.replace(/identifier = \d+/, 'identifier = 0x98')),
      isPackageError('InvalidShoestringIni'),
    );
    assert.throws(
      () => parseShoestringIni(ini.replace(/generationHashSeed = \w+/, 'generationHashSeed = 49D6')),
      isPackageError('InvalidShoestringIni'),
    );
    assert.throws(() => parseShoestringIni(ini.replace(/\[images\][^[]*/, '')), isPackageError('InvalidShoestringIni'));
  });
});

void describe('pinned checksums', () => {
  void it('pins the sha256 of the shared sai.zip (as computed by sha256sum)', () => {
    const expected = execFileSync('sha256sum', [saiPackageZip], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(NETWORK_PACKAGE_PRESETS.sai.checksum.algorithm, 'sha256');
    assert.equal(NETWORK_PACKAGE_PRESETS.sai.checksum.hex, expected);
  });

  void it('accepts the sai preset from a local path and from a file:// URL', async () => {
    const fromPath = await loadPresetNetworkPackage('sai', { location: saiPackageZip });
    const fromUrl = await loadPresetNetworkPackage('sai', { location: pathToFileURL(saiPackageZip).href });
    assert.equal(fromPath.zipSha256, NETWORK_PACKAGE_PRESETS.sai.checksum.hex);
    assert.deepEqual([...fromUrl.files.keys()], [...fromPath.files.keys()]);
  });

  void it('refuses a modified zip at the preset location with a typed ChecksumMismatch', async () => {
    const tampered = join(scratch, 'sai-tampered.zip');
    writeFileSync(tampered, corrupted(saiZip));
    await assert.rejects(loadPresetNetworkPackage('sai', { location: tampered }), (error: unknown) => {
      isPackageError('ChecksumMismatch')(error);
      const { message } = error as Error;
      assert.ok(message.includes(NETWORK_PACKAGE_PRESETS.sai.checksum.hex), 'names the expected digest');
      assert.ok(message.includes(tampered), 'names the source');
      return true;
    });
  });

  void it('verifies SHA3-512 pins (shoestring pins mainnet that way), checked against openssl', () => {
    const line = execFileSync('openssl', ['dgst', '-sha3-512', saiPackageZip], { encoding: 'utf8' });
    const hex = line.trim().split('= ')[1]!.toUpperCase();
    assert.equal(hex.length, 128);
    verifyChecksum(saiZip, { algorithm: 'sha3-512', hex });
    assert.throws(
      () => verifyChecksum(corrupted(saiZip), { algorithm: 'sha3-512', hex }),
      isPackageError('ChecksumMismatch'),
    );
    assert.throws(
      () => loadNetworkPackageFromZip(saiZip, { checksum: { algorithm: 'sha3-512', hex: hex.slice(2) } }),
      isPackageError('InvalidChecksum'),
    );
  });

  // the value itself is compared with shoestring's OFFICIAL_HASHES in symbol-shoestring-reference.test.ts
  void it('pins mainnet to a SHA3-512 of the client/catapult/v1.0.3.9 release asset', () => {
    const { mainnet } = NETWORK_PACKAGE_PRESETS;
    assert.equal(mainnet.checksum.algorithm, 'sha3-512');
    assert.match(mainnet.checksum.hex, /^[0-9A-F]{128}$/);
    assert.match(
      mainnet.url,
      /^https:\/\/github\.com\/symbol\/symbol\/releases\/download\/client%2Fcatapult%2Fv1\.0\.3\.9\//,
    );
  });

  void it('downloads the official URL when no location is given, still verified', async () => {
    const requested: string[] = [];
    const serve =
      (body: Uint8Array, status = 200): typeof fetch =>
      (url) => {
        requested.push(url instanceof Request ? url.url : url.toString());
        return Promise.resolve(new Response(body, { status }));
      };
    const pkg = await loadPresetNetworkPackage('sai', { fetch: serve(saiZip) });
    assert.deepEqual(requested, [NETWORK_PACKAGE_PRESETS.sai.url]);
    assert.ok(pkg.has('seed/index.dat'));
    await assert.rejects(
      loadPresetNetworkPackage('sai', { fetch: serve(corrupted(saiZip)) }),
      isPackageError('ChecksumMismatch'),
    );
    await assert.rejects(
      loadPresetNetworkPackage('sai', { fetch: serve(new Uint8Array(), 404) }),
      isPackageError('SourceUnavailable'),
    );
  });

  void it('stops reading a download that grows past the size limit', async () => {
    const chunk = new Uint8Array(8 * 1024 * 1024);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const fetchEndless: typeof fetch = () => Promise.resolve(new Response(endless));
    await assert.rejects(loadPresetNetworkPackage('sai', { fetch: fetchEndless }), isPackageError('TooLarge'));
    assert.ok(sent < 20, `stopped after ${sent} chunks`);
  });

  void it('names unknown presets', async () => {
    await assert.rejects(loadPresetNetworkPackage('testnet'), isPackageError('UnknownPreset'));
  });
});

void describe('hostile or broken archives', () => {
  const base = Object.fromEntries([...loadNetworkPackageFromZip(saiZip).files].map(([path, bytes]) => [path, bytes]));

  void it('refuses entries that climb out of the package', () => {
    const zip = zipSync({ ...base, '../evil.sh': new Uint8Array([1]) });
    assert.throws(() => loadNetworkPackageFromZip(zip), isPackageError('UnsafePath'));
  });

  void it('refuses archives without shoestring.ini or seed', () => {
    const withoutIni = Object.fromEntries(Object.entries(base).filter(([path]) => path !== 'shoestring.ini'));
    assert.throws(() => loadNetworkPackageFromZip(zipSync(withoutIni)), isPackageError('MissingFile'));
    const withoutSeed = Object.fromEntries(Object.entries(base).filter(([path]) => !path.startsWith('seed/')));
    assert.throws(() => loadNetworkPackageFromZip(zipSync(withoutSeed)), isPackageError('MissingFile'));
  });

  void it('reports bytes that are not a zip', () => {
    assert.throws(
      () => loadNetworkPackageFromZip(new TextEncoder().encode('<html>rate limited</html>')),
      isPackageError('InvalidArchive'),
    );
  });

  void it('reports a missing local source', async () => {
    await assert.rejects(
      loadPresetNetworkPackage('sai', { location: join(scratch, 'nope.zip') }),
      isPackageError('SourceUnavailable'),
    );
  });
});
