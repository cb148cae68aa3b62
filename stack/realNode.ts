/**
 * The local stack's one real node: a kubelet (the control plane's release) with containerd, runc
 * and CNI plugins, beside KWOK's simulated nodes. It is tainted, so only pods that select and
 * tolerate it (`realNodePlacement`) run real containers; everything else stays simulated.
 */
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePauseImage } from './images/pauseImage.js';
import { readPid, waitFor } from './processes.js';
import {
  containerdIsReady,
  importImageArchive,
  listImages,
  startContainerd,
  stopContainerRuntime,
} from './runtime/containerd.js';
import { foreignKubeletPid, kubeletIsHealthy, startKubelet, stopKubelet } from './runtime/kubelet.js';
import { unmountAllUnder } from './runtime/mounts.js';
import { podNetwork, writeCniConfig, writeContainerdConfig, writeKubeletConfig } from './runtime/nodeConfig.js';
import { paths } from './versions.js';

const run = promisify(execFile);
const node = paths.realNode;

export const realNodeName = 'real-node';
export const realNodeLabel = { key: 'stack.symbol.nodeoperator.io/real-node', value: 'true' } as const;
export const realNodeTaint: k8s.V1Taint = { key: realNodeLabel.key, value: realNodeLabel.value, effect: 'NoSchedule' };
/** `local` PersistentVolumes on the real node (see test/support/realNode.ts); KWOK never binds them. */
export const realNodeStorageClass = 'real-node-local';
export const realNodePodSubnet = podNetwork.subnet;

/** What a pod spec needs to run on the real node. */
export const realNodePlacement: Pick<k8s.V1PodSpec, 'nodeSelector' | 'tolerations'> = {
  nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
  tolerations: [{ key: realNodeTaint.key, operator: 'Equal', value: realNodeTaint.value, effect: 'NoSchedule' }],
};

/** Why the stack runs without a real node, or undefined when it runs one. */
export function realNodeSkipReason(): string | undefined {
  if (process.env.SNO_REAL_NODE === 'false') return 'disabled by SNO_REAL_NODE=false';
  if (process.platform !== 'linux') return 'it needs Linux';
  if (process.getuid?.() !== 0)
    return 'it needs root (containerd and the kubelet manage mounts, cgroups and namespaces)';
  return undefined;
}

/** realNodeSkipReason, and whether another stack's real node already runs on this machine. */
export async function realNodeSkipReasonNow(): Promise<string | undefined> {
  const reason = realNodeSkipReason();
  if (reason) return reason;
  const foreign = await foreignKubeletPid();
  return foreign === undefined ? undefined : `another stack's kubelet (pid ${foreign}) runs on this machine`;
}

/** Imports an image archive (OCI or docker layout, e.g. from stack/image/oci.ts) into the real node. */
export async function importImage(archive: string): Promise<void> {
  await importImageArchive(archive);
}

const ipForward = '/proc/sys/net/ipv4/ip_forward';
const ipForwardBefore = join(node.dir, 'ip_forward.before');

/** The bridge plugin turns on IP forwarding (for a gateway); `down` puts back what the host had. */
async function rememberIpForward(): Promise<void> {
  if (existsSync(ipForwardBefore)) return;
  await mkdir(node.dir, { recursive: true });
  await writeFile(ipForwardBefore, await readFile(ipForward, 'utf8'));
}

async function restoreIpForward(): Promise<void> {
  const before = await readFile(ipForwardBefore, 'utf8').catch(() => undefined);
  if (before !== undefined) await writeFile(ipForward, before).catch(() => undefined);
}

/**
 * containerd with the pause image and `images` (built here: nothing can be pulled) imported; needs no cluster,
 * so it starts beside it.
 */
export async function startRealNodeRuntime(
  images: readonly { reference: string; archive: string }[] = [],
): Promise<'started' | 'running'> {
  await rememberIpForward();
  const pause = await ensurePauseImage();
  await writeCniConfig();
  const state = await startContainerd({ restart: await writeContainerdConfig(pause.reference) });
  const present = await listImages();
  for (const image of [pause, ...images]) if (!present.includes(image.reference)) await importImage(image.archive);
  return state;
}

function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  return kc;
}

/** Ready, as reported at or after `since` (a restarted kubelet finds its old Node still Ready). */
async function nodeIsReady(core: k8s.CoreV1Api, since = new Date(0)): Promise<boolean> {
  const found = await core.readNode({ name: realNodeName }).catch(() => undefined);
  const ready = found?.status?.conditions?.find((c) => c.type === 'Ready');
  // Heartbeat times have whole seconds.
  const reportedAt = new Date(ready?.lastHeartbeatTime ?? 0).getTime();
  return ready?.status === 'True' && reportedAt >= Math.floor(since.getTime() / 1000) * 1000;
}

async function ensureStorageClass(kc: k8s.KubeConfig): Promise<void> {
  try {
    await kc.makeApiClient(k8s.StorageV1Api).createStorageClass({
      body: {
        metadata: { name: realNodeStorageClass },
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'WaitForFirstConsumer',
        reclaimPolicy: 'Delete',
      },
    });
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
}

/**
 * Registers the node: starts the kubelet (again after the cluster was recreated, since its Node and
 * CA are new) and waits until the Node is Ready. Call after startRealNodeRuntime and the cluster.
 */
export async function joinRealNode(options: { clusterRestarted: boolean }): Promise<'started' | 'running'> {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await ensureStorageClass(kc);
  const configChanged = await writeKubeletConfig({
    clientCaFile: join(paths.clusterDir, 'pki', 'ca.crt'),
    taint: realNodeTaint,
  });
  const upToDate = !options.clusterRestarted && !configChanged;
  if (upToDate && (await kubeletIsHealthy()) && (await nodeIsReady(core))) return 'running';
  const since = new Date();
  await startKubelet({ nodeName: realNodeName, labels: { [realNodeLabel.key]: realNodeLabel.value } });
  await waitFor(
    `the real node to be Ready (kubelet log: ${node.kubeletLog})`,
    async () => ((await nodeIsReady(core, since)) ? true : undefined),
    120_000,
    500,
  );
  return 'started';
}

/** The kubelet's links to container logs (a fixed host path, /var/log/containers) that point at ours. */
async function removeContainerLogLinks(): Promise<void> {
  const dir = '/var/log/containers';
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) {
    const target = await readlink(join(dir, name)).catch(() => '');
    if (target.startsWith(`${node.podLogsDir}/`)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/**
 * The kubelet's cgroups (cgroupfs driver: /kubepods in each v1 hierarchy). Empty once every container
 * is gone; removed deepest first. Only the stack runs a kubelet on a development machine.
 */
async function removePodCgroups(): Promise<void> {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return;
  for (const hierarchy of await readdir(root, { withFileTypes: true })) {
    if (!hierarchy.isDirectory()) continue;
    const top = join(root, hierarchy.name, 'kubepods');
    if (!existsSync(top)) continue;
    const dirs = (await readdir(top, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(entry.parentPath, entry.name));
    dirs.sort((a, b) => b.split('/').length - a.split('/').length);
    for (const dir of [...dirs, top]) await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Stops the kubelet, every container (containerd's shims outlive it), containerd, then unmounts
 * everything below the node's state dir before removing it. Host leftovers are removed too: the
 * pod bridge, the kubelet's /var/log/containers links and its cgroups; IP forwarding is put back.
 */
export async function stopRealNode(): Promise<boolean> {
  if (!existsSync(node.dir)) return false;
  await stopKubelet();
  await stopContainerRuntime();
  await unmountAllUnder(node.dir);
  await removeContainerLogLinks();
  await run('ip', ['link', 'delete', podNetwork.bridge]).catch(() => undefined);
  await restoreIpForward();
  await removePodCgroups();
  await rm(node.dir, { recursive: true, force: true });
  return true;
}

export async function realNodeStatus(): Promise<string> {
  const skip = realNodeSkipReason();
  if (skip) return `not run (${skip})`;
  const [kubeletPid, containerdPid] = await Promise.all([readPid(node.kubeletPid), readPid(node.containerdPid)]);
  if (kubeletPid === undefined && containerdPid === undefined) return 'stopped';
  const ready = existsSync(paths.kubeconfig) && (await nodeIsReady(kubeConfig().makeApiClient(k8s.CoreV1Api)));
  const runtime = (await containerdIsReady()) ? `containerd pid ${containerdPid}` : 'containerd not answering';
  return `${realNodeName} ${ready ? 'Ready' : 'not Ready'} (kubelet pid ${kubeletPid ?? 'none'}, ${runtime}); pods ${realNodePodSubnet}; logs ${node.dir}`;
}
