import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every binary of the local stack, pinned. Changing a version here builds a new cache entry. */
export const versions = {
  // Later CLI tags carry a `replace` directive and cannot be go-installed.
  temporal: 'v1.5.1',
  kubernetes: 'v1.37.2',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
} as const;

export type Component = keyof typeof versions;

export const stackSourceDir = resolve(fileURLToPath(new URL('.', import.meta.url)));

const cacheRoot =
  process.env.SNO_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'symbol-node-operator');
const stateRoot =
  process.env.SNO_STATE_DIR ??
  join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'symbol-node-operator');

const clusterName = 'symbol-dev';
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
};

export const endpoints = {
  temporalAddress: process.env.SNO_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
  temporalUiPort: Number(process.env.SNO_TEMPORAL_UI_PORT ?? 8233),
  kubeApiserverPort: Number(process.env.SNO_KUBE_APISERVER_PORT ?? 16443),
  clusterName,
};
