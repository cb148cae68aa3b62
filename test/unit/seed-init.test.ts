import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { buildStatefulSet, CONTAINERS, resolveSeedPackage } from '../../k8s/objects/index.js';
import {
  digestHex,
  loadNetworkPackageFromZip,
  NetworkPackageError,
  type PinnedChecksum,
} from '../../symbol/networkPackage.js';
import {
  initialiseSeed,
  parseSeedInitArgs,
  SeedInitError,
  type InitialiseSeedOptions,
  type SeedPackageLocation,
} from '../../worker/seedInit.js';
import { saiPackageZip, repoRoot } from '../support/paths.js';
import { container, context, parsed } from './k8s-fixtures.js';

const zip = new Uint8Array(readFileSync(saiPackageZip));
const pkg = loadNetworkPackageFromZip(zip);
/** The zip's seed/ entries, relative to seed/. */
const expectedSeed = new Map(pkg.list('seed/').map((path) => [path.slice('seed/'.length), pkg.bytes(path)]));
const sha256: PinnedChecksum = { algorithm: 'sha256', hex: digestHex(zip, 'sha256') };
const sha3: PinnedChecksum = { algorithm: 'sha3-512', hex: digestHex(zip, 'sha3-512') };
const wrongSha256: PinnedChecksum = { algorithm: 'sha256', hex: '0'.repeat(64) };

async function listFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(
      full
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
      new Uint8Array(await readFile(full)),
    );
  }
  return files;
}

function assertSameFiles(actual: Map<string, Uint8Array>, expected: ReadonlyMap<string, Uint8Array>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [path, bytes] of expected) assert.ok(Buffer.from(bytes).equals(actual.get(path)!), `bytes of ${path}`);
}

interface Volume {
  root: string;
  seedDir: string;
  dataDir: string;
  lines: string[];
  options: (location: SeedPackageLocation) => InitialiseSeedOptions;
}

async function volume(): Promise<Volume> {
  const root = await mkdtemp(join(tmpdir(), 'seed-init-test-'));
  const lines: string[] = [];
  const v: Volume = {
    root,
    seedDir: join(root, 'seed'),
    dataDir: join(root, 'data'),
    lines,
    options: (location) => ({
      package: location,
      seedDir: v.seedDir,
      dataDir: v.dataDir,
      network: 'sai',
      log: (line) => lines.push(line),
    }),
  };
  return v;
}

const volumes: string[] = [];
async function freshVolume(): Promise<Volume> {
  const v = await volume();
  volumes.push(v.root);
  return v;
}

void describe('seed-init', () => {
  void it('has a sai fixture with a seed to write', () => {
    assert.ok(expectedSeed.has('index.dat') && expectedSeed.has('proof.index.dat'), 'seed/index.dat');
    assert.ok(expectedSeed.has('00000/00001.dat'), 'seed/00000/00001.dat');
  });

  void it('writes exactly the seed files of the package (sha256), and nothing else beside them', async () => {
    const v = await freshVolume();
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 })), 'written');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);
    assert.deepEqual(await readdir(v.root), ['seed'], 'no temporary directory left');
    assert.equal(v.lines.length, 1);
    assert.match(v.lines[0] ?? '', /wrote the 7 seed files .* \(network sai\), sha256 verified/);
  });

  void it('verifies a SHA3-512 pin, given in either case', async () => {
    const v = await freshVolume();
    const upper = { algorithm: sha3.algorithm, hex: sha3.hex.toUpperCase() };
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: upper })), 'written');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);
    const wrong = { algorithm: 'sha3-512', hex: sha3.hex.replace(/^./, (c) => (c === '0' ? '1' : '0')) } as const;
    const other = await freshVolume();
    await assert.rejects(initialiseSeed(other.options({ file: saiPackageZip, checksum: wrong })), /ChecksumMismatch/);
  });

  void it('leaves an identical seed alone on the second run', async () => {
    const v = await freshVolume();
    await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 }));
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha3 })), 'unchanged');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);
    assert.match(v.lines.at(-1) ?? '', /already holds/);
  });

  void it('replaces a seed directory whose content differs', async () => {
    const v = await freshVolume();
    await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 }));
    await writeFile(join(v.seedDir, '00000', '00001.dat'), 'tampered');
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 })), 'written');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);

    await writeFile(join(v.seedDir, 'extra.dat'), 'x');
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 })), 'written');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);

    await rm(join(v.seedDir, 'proof.index.dat'));
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 })), 'written');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);
    assert.deepEqual(await readdir(v.root), ['seed'], 'neither the old nor a temporary directory is left');
  });

  void it('does nothing once the data directory holds index.dat, without reading the package', async () => {
    const v = await freshVolume();
    await mkdir(v.dataDir);
    await writeFile(join(v.dataDir, 'index.dat'), 'imported');
    const missing = join(v.root, 'no-such-package.zip');
    assert.equal(await initialiseSeed(v.options({ file: missing, checksum: wrongSha256 })), 'skipped');
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 })), 'skipped');
    assert.deepEqual((await readdir(v.root)).sort(), ['data']);
    assert.deepEqual(await readdir(v.dataDir), ['index.dat']);
    assert.deepEqual(v.lines, [
      'seed-init: data directory already initialised; seed not needed',
      'seed-init: data directory already initialised; seed not needed',
    ]);
  });

  void it('rejects a checksum mismatch before writing anything, naming both digests', async () => {
    const v = await freshVolume();
    await assert.rejects(initialiseSeed(v.options({ file: saiPackageZip, checksum: wrongSha256 })), (error) => {
      assert.ok(error instanceof NetworkPackageError);
      assert.equal(error.reason, 'ChecksumMismatch');
      assert.ok(error.message.includes(sha256.hex), 'names the actual digest');
      assert.ok(error.message.includes(wrongSha256.hex), 'names the expected digest');
      return true;
    });
    assert.equal(existsSync(v.seedDir), false);
    assert.deepEqual(await readdir(v.root), [], 'no seed directory, no temporary directory');
    assert.deepEqual(v.lines, []);
  });

  void it('keeps an existing seed directory when the package fails verification', async () => {
    const v = await freshVolume();
    await mkdir(v.seedDir);
    await writeFile(join(v.seedDir, 'index.dat'), 'old');
    await assert.rejects(initialiseSeed(v.options({ file: saiPackageZip, checksum: wrongSha256 })), /ChecksumMismatch/);
    assertSameFiles(await listFiles(v.seedDir), new Map([['index.dat', new TextEncoder().encode('old')]]));
    assert.deepEqual(await readdir(v.root), ['seed']);
  });

  void it('rejects an unreadable package and a zip that is no network package', async () => {
    const v = await freshVolume();
    await assert.rejects(
      initialiseSeed(v.options({ file: join(v.root, 'missing.zip') })),
      (error) => error instanceof NetworkPackageError && error.reason === 'SourceUnavailable',
    );
    const notZip = join(v.root, 'not.zip');
    await writeFile(notZip, 'not a zip');
    await assert.rejects(initialiseSeed(v.options({ file: notZip })), /InvalidArchive/);
    assert.deepEqual(await readdir(v.root), ['not.zip']);
  });

  void it('removes temporary directories left by an interrupted run', async () => {
    const v = await freshVolume();
    await mkdir(join(v.root, '.seed.seed-init-tmp-deadbeef', '00000'), { recursive: true });
    await mkdir(join(v.root, '.seed.seed-init-old-deadbeef'));
    await mkdir(join(v.root, 'unrelated'));
    assert.equal(await initialiseSeed(v.options({ file: saiPackageZip, checksum: sha256 })), 'written');
    assert.deepEqual((await readdir(v.root)).sort(), ['seed', 'unrelated']);
  });

  void describe('over http', () => {
    let server: Server;
    let base = '';
    before(async () => {
      server = createServer((request, response) => {
        if (request.url === '/sai.zip') response.writeHead(200, { 'content-type': 'application/zip' }).end(zip);
        else response.writeHead(404).end();
      });
      await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    });

    void it('downloads, verifies and writes the seed', async () => {
      const v = await freshVolume();
      assert.equal(await initialiseSeed(v.options({ url: `${base}/sai.zip`, checksum: sha3 })), 'written');
      assertSameFiles(await listFiles(v.seedDir), expectedSeed);
    });

    void it('rejects a download that fails or does not match', async () => {
      const v = await freshVolume();
      await assert.rejects(initialiseSeed(v.options({ url: `${base}/gone.zip`, checksum: sha256 })), /HTTP 404/);
      await assert.rejects(
        initialiseSeed(v.options({ url: `${base}/sai.zip`, checksum: wrongSha256 })),
        /ChecksumMismatch/,
      );
      assert.deepEqual(await readdir(v.root), []);
    });
  });
});

void describe('seed-init arguments', () => {
  const dirs = ['--seed-dir', '/pvc/seed', '--data-dir', '/pvc/data'];

  void it('understands exactly what the StatefulSet builder passes', () => {
    const byUrl = container(buildStatefulSet(parsed(), context()), CONTAINERS.seedInit);
    assert.deepEqual(parseSeedInitArgs(byUrl.args ?? []), {
      package: { url: 'https://example.org/sai.zip', checksum: { algorithm: 'sha256', hex: 'ab'.repeat(32) } },
      seedDir: '/pvc/seed',
      dataDir: '/pvc/data',
      network: 'sai',
    });
    const pinned = { algorithm: 'sha3-512', hex: 'CD'.repeat(64) } as const;
    const seedPackage = { kind: 'url', url: 'https://example.org/m.zip', checksum: pinned } as const;
    const sha3Args = container(buildStatefulSet(parsed(), context({ seedPackage })), CONTAINERS.seedInit).args;
    assert.deepEqual(parseSeedInitArgs(sha3Args ?? []).package, {
      url: 'https://example.org/m.zip',
      checksum: { algorithm: 'sha3-512', hex: 'cd'.repeat(64) },
    });

    const node = parsed({ network: 'custom', networkPackage: { configMapRef: { name: 'my-net', key: 'net.zip' } } });
    const byFile = container(
      buildStatefulSet(node, context({ seedPackage: resolveSeedPackage(node, {}) })),
      CONTAINERS.seedInit,
    );
    assert.deepEqual(parseSeedInitArgs(byFile.args ?? []), {
      package: { file: '/package/net.zip' },
      seedDir: '/pvc/seed',
      dataDir: '/pvc/data',
      network: 'custom',
    });
  });

  void it('refuses unusable arguments', () => {
    const url = ['--package-url', 'https://example.org/p.zip'];
    const checksum = ['--package-checksum', `sha256:${'ab'.repeat(32)}`];
    const bad: [string[], RegExp][] = [
      [[...dirs, ...url, '--package-sha256', 'ab'.repeat(32)], /package-sha256/],
      [[...dirs, ...url], /--package-url needs --package-checksum/],
      [[...dirs, ...url, ...checksum, '--package-file', '/p.zip'], /exactly one/],
      [[...dirs, ...checksum], /exactly one/],
      [[...dirs, '--package-url', 'ftp://example.org/p.zip', ...checksum], /http\(s\)/],
      [[...dirs, ...url, '--package-checksum', 'ab'.repeat(32)], /<algorithm>:<hex>/],
      [[...dirs, ...url, '--package-checksum', `md5:${'ab'.repeat(16)}`], /<algorithm>:<hex>/],
      [[...dirs, ...url, '--package-checksum', `sha3-512:${'ab'.repeat(32)}`], /128 hex digits/],
      [[...dirs, ...url, '--package-checksum', `sha256:${'ab'.repeat(64)}`], /64 hex digits/],
      [[...dirs, ...url, ...checksum, 'positional'], /positional/i],
      [['--seed-dir', '/pvc/seed', ...url, ...checksum], /--data-dir are required/],
      [['--seed-dir', '/pvc/x', '--data-dir', '/pvc/x', ...url, ...checksum], /must differ/],
      [['--seed-dir', '/', '--data-dir', '/pvc/data', ...url, ...checksum], /root/],
      [[...dirs, '--package-file'], /argument missing/],
    ];
    for (const [args, message] of bad) {
      assert.throws(
        () => parseSeedInitArgs(args),
        (e) => e instanceof SeedInitError && message.test(e.message),
      );
    }
  });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'worker/seedInit.ts', ...args],
      { cwd: repoRoot, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

void describe('seed-init command line', () => {
  void it('exits 1 with one line on stderr for a checksum mismatch, and writes nothing', async () => {
    const v = await freshVolume();
    const result = await runCli([
      '--network',
      'sai',
      '--seed-dir',
      v.seedDir,
      '--data-dir',
      v.dataDir,
      '--package-file',
      saiPackageZip,
      '--package-checksum',
      `sha256:${wrongSha256.hex}`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /^seed-init: ChecksumMismatch: sha256 of .* is [0-9a-f]{64}, expected 0{64}$/);
    assert.deepEqual(await readdir(v.root), []);
  });

  void it('exits 2 for bad arguments and 0 once the seed is written', async () => {
    const v = await freshVolume();
    const bad = await runCli(['--seed-dir', v.seedDir, '--data-dir', v.dataDir, '--package-sha256', sha256.hex]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^seed-init: bad arguments: .*--package-sha256/);

    const good = await runCli([
      '--seed-dir',
      v.seedDir,
      '--data-dir',
      v.dataDir,
      '--package-file',
      saiPackageZip,
      '--package-checksum',
      `sha3-512:${sha3.hex}`,
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stderr, '');
    assertSameFiles(await listFiles(v.seedDir), expectedSeed);
  });
});

after(async () => {
  for (const root of volumes) await rm(root, { recursive: true, force: true });
});
