/**
 * The catapult server image, for real: its layers are unpacked into a root filesystem and catapult runs in a
 * chroot of it as uid 1000, with the pod's own start and recovery scripts (k8s/objects/layout.ts), the image's
 * environment and a sai peer configuration rendered by the operator's code (configuration, certificates, seed).
 * Nothing of the host's /usr is visible to it: a missing library or a wrong path fails here.
 *
 * The image is built by the stack (ensureCatapultImage is cached, so this is fast when it was); on a machine
 * without it, the `before` hook builds catapult (~18 min on 2 cores).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';

import { catapultCommand, CATAPULT_ENV, RECOVERY_SCRIPT, RUN_AS_GROUP, RUN_AS_USER } from '../../k8s/objects/layout.js';
import { CATAPULT_LIBRARIES } from '../../stack/catapult/build.js';
import { ensureCatapultImage } from '../../stack/catapult/image.js';
import { unpackImageArchive, type ImageConfig } from '../../stack/image/ociRootfs.js';
import type { WrittenImage } from '../../stack/image/oci.js';
import {
  buildNodeConfig,
  certificateDirectoryFiles,
  createCertificateSet,
  defaultCaCommonName,
  defaultNodeCommonName,
  loadNetworkPackageFromZip,
  PrivateKeySecret,
} from '../../symbol/index.js';
import { saiPackageZip } from '../support/paths.js';

const PEER_PORT = 7900;
/** Absolute: the child's environment is the image's, whose PATH does not reach the host's sbin. */
const CHROOT = '/usr/sbin/chroot';
/** The server as the brief of this image states it; LD_LIBRARY_PATH comes from the image's Env. */
const BARE_SERVER = ['/bin/sh', '-c', 'exec /usr/catapult/bin/catapult.server /userconfig'];
const FRIENDLY_NAME = 'image-test';
const HOST = 'image-test.example.org';

let image: WrittenImage;
let config: ImageConfig;
let work: string;
let rootfs: string;
const running = new Set<ChildProcess>();

// catapult's console sink colours its lines (colorMode = Ansi)
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const stripAnsi = (text: string): string => text.replace(ANSI_COLOUR, '');

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a command in a chroot of the image as the pod would: uid/gid 1000, the image's Env plus the pod's. */
function runInImage(command: string[]): Run {
  const env: Record<string, string> = {};
  for (const pair of config.Env ?? []) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
  for (const { name, value } of CATAPULT_ENV) env[name] = value;
  const child = spawn(CHROOT, [`--userspec=${RUN_AS_USER}:${RUN_AS_GROUP}`, rootfs, ...command], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      done({ code, signal });
    }),
  );
  return { child, output: () => stripAnsi(text), exit };
}

/** A LISTEN socket on the port in the host's network namespace (no connection, so no TIME-WAIT left behind). */
function listening(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .some((line) => {
        const fields = line.trim().split(/\s+/);
        return fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A';
      }),
  );
}

async function until(what: string, run: Run, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.exit.then(() => (exited = true));
  while (!check()) {
    if (exited) assert.fail(`catapult exited before ${what}:\n${run.output().slice(-3000)}`);
    if (Date.now() > deadline) assert.fail(`no ${what} after ${timeoutMs / 1000} s:\n${run.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startServer(command = BARE_SERVER): Promise<{ run: Run; startMs: number }> {
  const started = Date.now();
  const run = runInImage(command);
  await until('height 1', run, () => run.output().includes('loaded blockchain (height = 1'));
  await until(`a listener on ${PEER_PORT}`, run, () => listening(PEER_PORT));
  return { run, startMs: Date.now() - started };
}

async function writeOwned(path: string, content: string | Uint8Array, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chown(path, RUN_AS_USER, RUN_AS_GROUP);
  await chmod(path, mode);
}

async function ownedDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true });
  await chown(path, RUN_AS_USER, RUN_AS_GROUP);
  await chmod(path, mode);
}

const certificates = { main: PrivateKeySecret.generate(), node: PrivateKeySecret.generate() };

before(
  async () => {
    assert.equal(process.getuid?.(), 0, 'this test chroots into the image and must run as root');
    image = await ensureCatapultImage((line) => console.log(`[catapult] ${line}`));
    work = await mkdtemp(join(tmpdir(), 'catapult-image-'));
    rootfs = join(work, 'rootfs');
    config = await unpackImageArchive(image.archive, rootfs);

    // What the pod mounts, with the operator's rendering: resources (ConfigMap, read-only, root-owned) ...
    const pkg = loadNetworkPackageFromZip(new Uint8Array(readFileSync(saiPackageZip)));
    const files = buildNodeConfig(pkg, {
      role: 'peer',
      harvester: true,
      voter: false,
      host: HOST,
      friendlyName: FRIENDLY_NAME,
      harvesting: { signingKey: PrivateKeySecret.generate(), vrfKey: PrivateKeySecret.generate() },
    });
    for (const [path, content] of files) {
      const target = join(rootfs, 'userconfig', path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    // ... certificates (Secret, 0400 for the node user), the seed as seed-init leaves it, empty data/logs.
    const set = await createCertificateSet({
      mainKey: certificates.main,
      nodeKey: certificates.node,
      friendlyName: FRIENDLY_NAME,
      host: HOST,
    });
    await ownedDir(join(rootfs, 'certificates'), 0o700);
    for (const [name, pem] of certificateDirectoryFiles(set)) {
      await writeOwned(join(rootfs, 'certificates', name), pem, 0o400);
    }
    await ownedDir(join(rootfs, 'seed'), 0o755);
    for (const path of pkg.list('seed/')) {
      await writeOwned(join(rootfs, path), pkg.bytes(path), 0o644);
    }
    for (const dir of ['data', 'logs', 'votingkeys']) await ownedDir(join(rootfs, dir), 0o755);
    if (listening(PEER_PORT)) assert.fail(`port ${PEER_PORT} is already in use on this machine`);
  },
  { timeout: 45 * 60_000 },
);

after(async () => {
  for (const child of running) child.kill('SIGKILL');
  // The rootfs holds a node key: never leave it behind.
  if (work) await rm(work, { recursive: true, force: true });
});

describe('catapult server image', () => {
  it('has the layout the node pods expect', async () => {
    const mode = async (path: string): Promise<number> => (await stat(join(rootfs, path))).mode & 0o7777;
    for (const binary of ['catapult.server', 'catapult.recovery']) {
      assert.equal(await mode(`usr/catapult/bin/${binary}`), 0o755, binary);
    }
    assert.deepEqual((await readdir(join(rootfs, 'usr/catapult/lib'))).sort(), [...CATAPULT_LIBRARIES].sort());
    const deps = await readdir(join(rootfs, 'usr/catapult/deps'));
    for (const soname of ['libboost_log.so.1.81.0', 'librocksdb.so.7.8', 'libssl.so.3', 'libcrypto.so.3']) {
      assert.ok(deps.includes(soname), `${soname} in /usr/catapult/deps (${deps.join(' ')})`);
    }
    assert.equal(await readlink(join(rootfs, 'bin/sh')), 'busybox');
    assert.equal(await readlink(join(rootfs, 'bin/rm')), 'busybox');
    assert.equal(await mode('tmp'), 0o1777);
    assert.deepEqual(await readdir(join(rootfs, 'tmp')), []);
    assert.match(await readFile(join(rootfs, 'etc/passwd'), 'utf8'), /^catapult:x:1000:1000:/m);
    assert.match(await readFile(join(rootfs, 'etc/group'), 'utf8'), /^catapult:x:1000:/m);
    assert.ok((await lstat(join(rootfs, 'lib64'))).isSymbolicLink());
    assert.ok(existsSync(join(rootfs, 'usr/lib64/ld-linux-x86-64.so.2')), 'the loader at the path in PT_INTERP');
    assert.ok(config.Env?.includes('LD_LIBRARY_PATH=/usr/catapult/lib:/usr/catapult/deps'));
    assert.equal(config.User, '1000:1000');
    assert.match(image.reference, /^localhost\/catapult-server:[0-9a-f]{16}$/);
    console.log(`[catapult] image ${image.reference}: ${(image.bytes / 1024 / 1024).toFixed(1)} MiB archive`);
  });

  it('imports the seed, reaches height 1 and listens; after SIGKILL the restart fails on server.lock until recovery runs', async () => {
    const first = await startServer();
    console.log(`[catapult] first start (seed import) to listening: ${first.startMs} ms`);
    const loaded = [...first.run.output().matchAll(/loading plugin from \/usr\/catapult\/lib\/(\S+)/g)].map(
      (m) => m[1],
    );
    // a peer's server loads every extension but filespooling, which its recovery loads (checked below)
    assert.deepEqual(
      loaded.sort(),
      CATAPULT_LIBRARIES.filter((name) => name !== 'libextension.filespooling.so').sort(),
      'the extensions and plugins load from the image',
    );
    assert.match(first.run.output(), /Unlocked harvesting account with result Success_New/);
    assert.doesNotMatch(first.run.output(), /<(error|fatal)>/);
    assert.match(first.run.output(), /importing seed directory/);
    assert.match(first.run.output(), /nemesis network id: Testnet/);
    assert.ok(existsSync(join(rootfs, 'data', 'index.dat')), 'the seed was imported into /data');
    assert.ok(existsSync(join(rootfs, 'data', 'server.lock')));

    first.run.child.kill('SIGKILL');
    assert.equal((await first.run.exit).signal, 'SIGKILL');
    assert.ok(existsSync(join(rootfs, 'data', 'server.lock')), 'SIGKILL leaves server.lock');

    const locked = runInImage(BARE_SERVER);
    const lockedExit = await locked.exit;
    assert.equal(lockedExit.code, 253, `exit on the left lock:\n${locked.output().slice(-2000)}`);
    assert.match(locked.output(), /could not acquire instance lock/);

    // the pod's recovery init container script
    const recoveryStarted = Date.now();
    const recovery = runInImage(['/bin/sh', '-c', RECOVERY_SCRIPT]);
    const recoveryExit = await recovery.exit;
    assert.equal(recoveryExit.code, 0, `recovery:\n${recovery.output().slice(-3000)}`);
    console.log(`[catapult] recovery (pod init script) took ${Date.now() - recoveryStarted} ms`);
    assert.match(recovery.output(), /stale lock file\(s\) in \/data: server\.lock/);
    assert.match(recovery.output(), /loaded blockchain \(height = 1/);
    assert.match(recovery.output(), /loading plugin from \/usr\/catapult\/lib\/libextension\.filespooling\.so/);
    assert.ok(!existsSync(join(rootfs, 'data', 'server.lock')), 'recovery removed server.lock');

    const second = await startServer();
    console.log(`[catapult] restart after recovery to listening: ${second.startMs} ms`);
    assert.doesNotMatch(second.run.output(), /importing seed directory/, 'the data survived: no second import');

    // The pod's own server command repairs a lock left by an in-place restart (init containers do not rerun).
    second.run.child.kill('SIGKILL');
    await second.run.exit;
    const healed = await startServer(catapultCommand('catapult.server'));
    console.log(`[catapult] pod start command after SIGKILL (recovery + start) to listening: ${healed.startMs} ms`);
    assert.match(healed.run.output(), /running catapult\.recovery first/);

    // Last, because the server closes this connection first and leaves a TIME-WAIT socket on the port:
    // TLS 1.3 with a client chained like a Symbol node's (its own CA), and the server presents the node's chain.
    const client = await createCertificateSet({
      mainKey: PrivateKeySecret.generate(),
      nodeKey: PrivateKeySecret.generate(),
      friendlyName: 'probe',
      host: 'probe.example.org',
    });
    const peer = await new Promise<{ protocol: string | null; subject: string; issuer: string }>((done, fail) => {
      const socket = connect({
        host: '127.0.0.1',
        port: PEER_PORT,
        minVersion: 'TLSv1.3',
        ecdhCurve: 'X25519',
        key: client.nodeKey.toPem(),
        cert: client.nodeFullCertificatePem,
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => {
        const certificate = socket.getPeerCertificate(true);
        done({
          protocol: socket.getProtocol(),
          subject: String(certificate.subject.CN),
          issuer: String(certificate.issuerCertificate?.subject.CN),
        });
        socket.destroy();
      });
      socket.once('error', fail);
    });
    assert.deepEqual(peer, {
      protocol: 'TLSv1.3',
      subject: defaultNodeCommonName(FRIENDLY_NAME, HOST),
      issuer: defaultCaCommonName(FRIENDLY_NAME),
    });

    healed.run.child.kill('SIGTERM');
    const stopped = await healed.run.exit;
    assert.equal(stopped.code, 0, `SIGTERM shutdown:\n${healed.run.output().slice(-2000)}`);
    assert.ok(!existsSync(join(rootfs, 'data', 'server.lock')), 'a clean stop removes server.lock');
  });
});
