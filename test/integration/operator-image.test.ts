/**
 * The operator image as a container runtime would run it, without one: its layers unpacked into a root
 * filesystem, then `chroot` as the image's user (65532). Shows that the image holds every library and file
 * the operator and seed-init load, and that the operator becomes ready against the local stack, quietly.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { makeKubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { SEED_INIT_COMMAND } from '../../k8s/objects/layout.js';
import { ensureOperatorImage } from '../../stack/image/operatorImage.js';
import type { WrittenImage } from '../../stack/image/oci.js';
import { unpackImageArchive, type ImageConfig } from '../../stack/image/ociRootfs.js';
import { binaries, endpoints, paths } from '../../stack/versions.js';
import { withNamespace } from '../support/cluster.js';
import { saiPackageZip } from '../support/paths.js';

const run = promisify(execFile);
const NONROOT = '65532:65532';
/** Resolved here: the commands below run with the image's environment (its PATH), not this machine's. */
const chroot = ['/usr/sbin/chroot', '/usr/bin/chroot'].find((path) => existsSync(path)) ?? 'chroot';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('operator image', { timeout: 600_000 }, () => {
  let image: WrittenImage;
  let config: ImageConfig;
  let work: string;
  let root: string;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'this test unpacks the image and chroots into it: it must run as root');
    image = await ensureOperatorImage(() => undefined);
    work = await mkdtemp(join(tmpdir(), 'operator-image-test-'));
    root = join(work, 'rootfs');
    config = await unpackImageArchive(image.archive, root);
    // What the runtime provides in every container.
    await run('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    await run('mount', ['--bind', '/dev', join(root, 'dev')]);
  });
  after(async () => {
    if (!root) return;
    await run('umount', [join(root, 'proc')]).catch(() => undefined);
    await run('umount', [join(root, 'dev')]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it('is tagged by content and holds no shell, only the nonroot user', async () => {
    assert.match(image.reference, /^localhost\/symbol-node-operator:[0-9a-f]{16}$/);
    assert.equal(image.reference.split(':')[1], image.digest.slice('sha256:'.length, 'sha256:'.length + 16));
    for (const shell of ['bin/sh', 'bin/bash', 'usr/bin/sh', 'bin/busybox'])
      assert.ok(!existsSync(join(root, shell)), shell);
    assert.match(await readFile(join(root, 'etc/passwd'), 'utf8'), /^nonroot:x:65532:65532:/m);
    const releases = await readdir(join(root, 'app/node_modules/@temporalio/core-bridge/releases'));
    assert.deepEqual(releases, ['x86_64-unknown-linux-gnu'], 'only this platform’s Temporal core');
    assert.ok(!existsSync(join(root, 'app/node_modules/typescript')), 'no dev dependencies');
    assert.ok(existsSync(join(root, 'app/dist/workflow-bundle.js')));
    assert.ok(existsSync(join(root, 'app/dist/k8s/manifests/crd/symbolnodes.yaml')));
  });

  it('runs seed-init as the pods run it: the sai seed lands on the volume', async () => {
    await mkdir(join(root, 'tmp/volume/data'), { recursive: true });
    await copyFile(saiPackageZip, join(root, 'tmp/sai.zip'));
    await run('chown', ['-R', NONROOT, join(root, 'tmp/volume')]);
    const [command, script] = SEED_INIT_COMMAND;
    const args = ['--seed-dir', '/tmp/volume/seed', '--data-dir', '/tmp/volume/data', '--package-file', '/tmp/sai.zip'];
    const { stdout, stderr } = await run(chroot, [`--userspec=${NONROOT}`, root, command, script, ...args], {
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    assert.equal(stderr, '');
    assert.match(stdout, /seed/);
    assert.ok((await readdir(join(root, 'tmp/volume/seed'))).length > 0, 'seed written');
  });

  it('starts the operator from its entrypoint: ready against the stack, quiet, stopped by SIGTERM', async () => {
    await withNamespace('operator-image', async (namespace, kc) => {
      await installCustomResourceDefinitions(makeKubeClients(kc)); // the installer's job in production
      const { stdout: kubeconfig } = await run(binaries.kubectl, [
        '--kubeconfig',
        paths.kubeconfig,
        'config',
        'view',
        '--flatten',
        '--minify',
      ]);
      await writeFile(join(root, 'tmp/kubeconfig'), kubeconfig, { mode: 0o644 });
      const port = await freePort();
      assert.equal(config.User, NONROOT);
      assert.ok(config.Entrypoint && config.Env, 'the image config names an entrypoint and an environment');
      const child = spawn(chroot, [`--userspec=${config.User}`, root, ...config.Entrypoint], {
        env: {
          ...Object.fromEntries(
            config.Env.map((line): [string, string] => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)]),
          ),
          SNO_KUBECONFIG: '/tmp/kubeconfig',
          TEMPORAL_ADDRESS: endpoints.temporalAddress,
          SNO_WATCH_NAMESPACE: namespace,
          SNO_TASK_QUEUE: `operator-image-${randomBytes(4).toString('hex')}`,
          SNO_HEALTH_PORT: String(port),
          SNO_HEALTH_ADDRESS: '127.0.0.1',
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        const deadline = Date.now() + 60_000;
        let answer = '';
        for (;;) {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          answer = response ? `${response.status} ${await response.text()}` : 'no answer';
          if (answer.startsWith('200')) break;
          assert.ok(Date.now() < deadline, `not ready in 60 s: ${answer}; stdout ${stdout}; stderr ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        assert.match(answer, /^200 ok: worker RUNNING, informers synced/);
        assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
        assert.equal(stderr, '', 'a quiet start: nothing on stderr');
        assert.match(stdout, new RegExp(`watching SymbolNodes in ${namespace}`));
      } finally {
        child.kill('SIGTERM');
        assert.equal(await exited, 0, `exit after SIGTERM; stderr ${stderr}`);
      }
    });
  });
});
