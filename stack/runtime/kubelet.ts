import { mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { readPid, startDetached, stopProcess } from '../processes.js';
import { binaries, endpoints, paths } from '../versions.js';

const node = paths.realNode;

export async function kubeletIsHealthy(): Promise<boolean> {
  if ((await readPid(node.kubeletPid)) === undefined) return false;
  try {
    const response = await fetch(`http://127.0.0.1:${endpoints.kubeletHealthzPort}/healthz`, {
      signal: AbortSignal.timeout(2000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Starts the kubelet detached. It talks to kube-apiserver with the stack's admin kubeconfig (a
 * development stack: no TLS bootstrap, no per-node credentials).
 */
export async function startKubelet(options: { nodeName: string; labels: Record<string, string> }): Promise<void> {
  await stopProcess(node.kubeletPid);
  await mkdir(node.kubeletRoot, { recursive: true });
  const labels = Object.entries(options.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  await startDetached(
    binaries.kubelet,
    [
      `--config=${node.kubeletConfig}`,
      `--kubeconfig=${paths.kubeconfig}`,
      `--root-dir=${node.kubeletRoot}`,
      `--hostname-override=${options.nodeName}`,
      `--node-labels=${labels}`,
    ],
    node.kubeletLog,
    node.kubeletPid,
  );
}

export async function stopKubelet(): Promise<boolean> {
  return stopProcess(node.kubeletPid, 10_000);
}

/**
 * A kubelet of another stack (another SNO_STATE_DIR) on this machine. Two kubelets would share the
 * cgroup tree /kubepods and each would kill the other's pods as orphans, so only one may run.
 */
export async function foreignKubeletPid(): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (basename(await readlink(`/proc/${entry}/exe`)) !== 'kubelet') continue;
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (!args.includes(`--root-dir=${node.kubeletRoot}`)) return Number(entry);
    } catch {
      // the process ended while being looked at
    }
  }
  return undefined;
}
