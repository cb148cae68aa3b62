/**
 * The real node's container runtime: one containerd with its own socket and state, and the runc
 * containers its shims leave behind (shims outlive containerd by design, so stopping containerd
 * alone stops no container).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive, readPid, startDetached, stopProcess, waitFor } from '../processes.js';
import { binaries, paths } from '../versions.js';

const run = promisify(execFile);
const node = paths.realNode;

/** The containerd namespace the CRI plugin (so the kubelet) uses. */
export const criNamespace = 'k8s.io';

async function ctr(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run(binaries.ctr, ['--address', node.containerdSocket, ...args], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export async function containerdIsReady(): Promise<boolean> {
  if ((await readPid(node.containerdPid)) === undefined) return false;
  return ctr(['version'], 5000).then(
    () => true,
    () => false,
  );
}

/** Starts containerd, or restarts it to read a changed configuration (its containers keep running). */
export async function startContainerd(options: { restart: boolean }): Promise<'started' | 'running'> {
  if (!options.restart && (await containerdIsReady())) return 'running';
  await stopProcess(node.containerdPid);
  // containerd finds containerd-shim-runc-v2 on PATH; the shim is told runc's path in the config.
  const env = { ...process.env, PATH: `${paths.binDir('containerd')}:${process.env.PATH ?? ''}` };
  await startDetached(
    binaries.containerd,
    ['--config', node.containerdConfig, '--log-level', 'warn'],
    node.containerdLog,
    node.containerdPid,
    env,
  );
  await waitFor(
    `containerd (log: ${node.containerdLog})`,
    async () => ((await containerdIsReady()) ? true : undefined),
    30_000,
    200,
  );
  return 'started';
}

/** Imports an OCI (or docker) image archive for the kubelet's use; unpacked for overlayfs. */
export async function importImageArchive(archive: string): Promise<void> {
  if (!(await containerdIsReady())) {
    throw new Error(`cannot import ${archive}: the real node's containerd is not running (npm run stack -- up)`);
  }
  await ctr(['--namespace', criNamespace, 'images', 'import', '--snapshotter', 'overlayfs', archive], 300_000);
}

export async function listImages(): Promise<string[]> {
  return (await ctr(['--namespace', criNamespace, 'images', 'list', '--quiet'])).split('\n').filter(Boolean);
}

/** The PID of a running container's main process (containerd's task), if it runs. */
export async function containerPid(containerId: string): Promise<number | undefined> {
  const lines = (await ctr(['--namespace', criNamespace, 'tasks', 'list'])).split('\n').slice(1);
  for (const line of lines) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id === containerId && status === 'RUNNING') return Number(pid);
  }
  return undefined;
}

/** Kills and deletes every container runc knows in the node's runc root (sandboxes included). */
async function deleteAllContainers(): Promise<void> {
  const root = join(node.runcRoot, criNamespace);
  if (!existsSync(root)) return;
  const { stdout } = await run(binaries.runc, ['--root', root, 'list', '--quiet']).catch(() => ({ stdout: '' }));
  for (const id of stdout.split('\n').filter(Boolean)) {
    await run(binaries.runc, ['--root', root, 'delete', '--force', id]).catch(() => undefined);
  }
}

/** Shim processes serving this containerd (their command line names its socket). */
async function shimPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/exe`)) !== binaries.containerdShim) continue;
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (args.includes(node.containerdSocket)) pids.push(Number(entry));
    } catch {
      // the process ended while being looked at
    }
  }
  return pids;
}

/** The shims' sockets live in /run/containerd/s (the state dir path is too long for them). */
async function shimSocketFiles(): Promise<string[]> {
  const tasks = join(node.containerdState, 'io.containerd.runtime.v2.task', criNamespace);
  if (!existsSync(tasks)) return [];
  const files: string[] = [];
  for (const id of await readdir(tasks)) {
    const address = await readFile(join(tasks, id, 'address'), 'utf8').catch(() => '');
    if (address.startsWith('unix:///run/containerd/s/')) files.push(address.trim().slice('unix://'.length));
  }
  return files;
}

/** Stops every container, containerd and its shims. Safe to call when nothing runs. */
export async function stopContainerRuntime(): Promise<void> {
  await deleteAllContainers();
  const sockets = await shimSocketFiles();
  await stopProcess(node.containerdPid, 10_000);
  for (const pid of await shimPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(
    'the containerd shims to exit',
    async () => ((await shimPids()).every((pid) => !isAlive(pid)) ? true : undefined),
    10_000,
  ).catch(() => undefined);
  await Promise.all(sockets.map((socket) => rm(socket, { force: true })));
}
