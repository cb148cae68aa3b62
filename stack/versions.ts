import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const kubernetesVersion = 'v1.37.2';

/** Every binary of the local stack, pinned. Changing a version here builds a new cache entry. */
export const versions = {
  // Later CLI tags carry a `replace` directive and cannot be go-installed.
  temporal: 'v1.5.1',
  kubernetes: kubernetesVersion,
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  // The real node: a kubelet of the control plane's release (its own cache entry, so adding it
  // does not rebuild the control plane), containerd 2 with its shim and ctr, runc, CNI plugins.
  kubelet: kubernetesVersion,
  containerd: 'v2.4.2',
  runc: 'v1.5.3',
  cniPlugins: 'v1.10.0',
} as const;

export type Component = keyof typeof versions;

export const stackSourceDir = resolve(fileURLToPath(new URL('.', import.meta.url)));

const cacheRoot =
  process.env.SNO_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'symbol-node-operator');
const stateRoot =
  process.env.SNO_STATE_DIR ??
  join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'symbol-node-operator');

const clusterName = 'symbol-dev';
const realNodeDir = join(stateRoot, 'real-node');
const kwokWorkdir = join(stateRoot, 'kwok');
const clusterDir = join(kwokWorkdir, 'clusters', clusterName);

export const paths = {
  cacheRoot,
  /** One directory per component and version, so a version bump never reuses a stale binary. */
  binDir: (component: Component): string => join(cacheRoot, 'bin', `${component}-${versions[component]}`),
  buildLogDir: join(cacheRoot, 'build-logs'),
  stateRoot,
  temporalDb: join(stateRoot, 'temporal', 'temporal.db'),
  temporalLog: join(stateRoot, 'temporal', 'server.log'),
  temporalPid: join(stateRoot, 'temporal', 'server.pid'),
  kwokWorkdir,
  kwokConfig: join(kwokWorkdir, 'kwokctl.yaml'),
  /** kwokctl's directory for the cluster: pki, pids, logs, etcd data. */
  clusterDir,
  auditPolicy: join(kwokWorkdir, 'audit-policy.yaml'),
  /** kube-apiserver's audit log (JSON lines); see auditPolicy in cluster.ts for what it records. */
  auditLog: join(clusterDir, 'logs', 'audit.log'),
  kubeconfig: join(stateRoot, 'kubeconfig'),
  /** The real node's state: everything its kubelet, containerd and CNI write lives below this. */
  realNode: {
    dir: realNodeDir,
    containerdConfig: join(realNodeDir, 'containerd', 'config.toml'),
    containerdRoot: join(realNodeDir, 'containerd', 'root'),
    containerdState: join(realNodeDir, 'containerd', 'state'),
    containerdSocket: join(realNodeDir, 'containerd', 'containerd.sock'),
    containerdLog: join(realNodeDir, 'containerd', 'containerd.log'),
    containerdPid: join(realNodeDir, 'containerd', 'containerd.pid'),
    /** runc's own state (--root) for the containers the shims start. */
    runcRoot: join(realNodeDir, 'runc'),
    cniConfDir: join(realNodeDir, 'cni', 'net.d'),
    cniIpamDir: join(realNodeDir, 'cni', 'ipam'),
    kubeletRoot: join(realNodeDir, 'kubelet'),
    kubeletConfig: join(realNodeDir, 'kubelet-config.yaml'),
    kubeletLog: join(realNodeDir, 'kubelet.log'),
    kubeletPid: join(realNodeDir, 'kubelet.pid'),
    podLogsDir: join(realNodeDir, 'pod-logs'),
    volumePluginDir: join(realNodeDir, 'volume-plugins'),
    /** Backing directories of the `local` PersistentVolumes tests create on the real node. */
    localVolumesDir: join(realNodeDir, 'volumes'),
  },
  /** Built images (pause), keyed by the hash of their sources. */
  imageCacheDir: join(cacheRoot, 'images'),
};

export const binaries = {
  temporal: join(paths.binDir('temporal'), 'temporal'),
  kubeApiserver: join(paths.binDir('kubernetes'), 'kube-apiserver'),
  kubeControllerManager: join(paths.binDir('kubernetes'), 'kube-controller-manager'),
  kubeScheduler: join(paths.binDir('kubernetes'), 'kube-scheduler'),
  kubectl: join(paths.binDir('kubernetes'), 'kubectl'),
  etcd: join(paths.binDir('etcd'), 'etcd'),
  kwok: join(paths.binDir('kwok'), 'kwok'),
  kwokctl: join(paths.binDir('kwok'), 'kwokctl'),
  kubelet: join(paths.binDir('kubelet'), 'kubelet'),
  containerd: join(paths.binDir('containerd'), 'containerd'),
  containerdShim: join(paths.binDir('containerd'), 'containerd-shim-runc-v2'),
  ctr: join(paths.binDir('containerd'), 'ctr'),
  runc: join(paths.binDir('runc'), 'runc'),
  cniBinDir: paths.binDir('cniPlugins'),
};

export const endpoints = {
  temporalAddress: process.env.SNO_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  temporalUiPort: Number(process.env.SNO_TEMPORAL_UI_PORT ?? 8233),
  kubeApiserverPort: Number(process.env.SNO_KUBE_APISERVER_PORT ?? 16443),
  clusterName,
  /** The real node's kubelet (KWOK's ports are picked downwards from 32767, never this low). */
  kubeletPort: Number(process.env.SNO_KUBELET_PORT ?? 10250),
  kubeletHealthzPort: Number(process.env.SNO_KUBELET_HEALTHZ_PORT ?? 10248),
};
