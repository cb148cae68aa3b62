import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKubeApiserver } from './faults.js';
import { stopProcess, waitFor } from './processes.js';
import { binaries, endpoints, paths, stackSourceDir, versions } from './versions.js';

const run = promisify(execFile);

export const simulatedNodeNames = ['kwok-node-0', 'kwok-node-1'];
export const defaultStorageClass = 'kwok-volume';

function kwokEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KWOK_WORKDIR: paths.kwokWorkdir,
    // Every binary is local: kwokctl would otherwise try to download them.
    KWOK_KUBE_APISERVER_BINARY: binaries.kubeApiserver,
    KWOK_KUBE_CONTROLLER_MANAGER_BINARY: binaries.kubeControllerManager,
    KWOK_KUBE_SCHEDULER_BINARY: binaries.kubeScheduler,
    KWOK_KUBECTL_BINARY: binaries.kubectl,
    KWOK_ETCD_BINARY: binaries.etcd,
    KWOK_CONTROLLER_BINARY: binaries.kwok,
    PATH: `${paths.binDir('kubernetes')}:${process.env.PATH ?? ''}`,
  };
}

/**
 * KWOK's default node and pod stages ship in its Go module. Because we pass stages of our own,
 * kwokctl adds none of its defaults, so they are read from the module cache (version-pinned).
 */
async function kwokModuleStages(): Promise<string[]> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `sigs.k8s.io/kwok@${versions.kwok}`], {
    cwd: stackSourceDir,
  });
  const { Dir } = JSON.parse(stdout) as { Dir: string };
  const stageFiles = [
    'node/fast/node-initialize.yaml',
    'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
    'node/chaos/node-not-ready.yaml',
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
    'volume/fast/pvc-provision.yaml',
    'volume/fast/pv-bind.yaml',
    'volume/fast/pvc-delete.yaml',
    'volume/fast/pv-delete.yaml',
  ];
  return Promise.all(stageFiles.map((file) => readFile(join(Dir, 'kustomize/stage', file), 'utf8')));
}

/**
 * What kube-apiserver audits: every request made by a ServiceAccount (an in-cluster operator) at
 * Metadata level, so a test can list the verbs and resources the operator really used; nothing else,
 * which keeps the log small under the load tests' admin traffic.
 */
const auditPolicy = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [{ level: 'Metadata', userGroups: ['system:serviceaccounts'] }, { level: 'None' }],
};

interface ExtraArg {
  key: string;
  value: string;
  /** replace the flag kwokctl sets instead of adding one */
  override?: boolean;
}

function componentArgs(): Record<string, ExtraArg[]> {
  // The default /24 of Service IPs runs out at 254 Services: too few for load tests of many nodes.
  const serviceRange = { key: 'service-cluster-ip-range', value: '10.96.0.0/16' };
  const pki = join(paths.clusterDir, 'pki');
  return {
    'kube-apiserver': [
      serviceRange,
      // For `kubectl logs/exec` on the real node: its kubelet admits callers by client certificate.
      { key: 'kubelet-client-certificate', value: join(pki, 'admin.crt') },
      { key: 'kubelet-client-key', value: join(pki, 'admin.key') },
      // The real node's name is not in DNS; its InternalIP is this machine's.
      { key: 'kubelet-preferred-address-types', value: 'InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP' },
    ],
    'kube-controller-manager': [serviceRange],
    // KWOK simulates only the Nodes annotated as fake (all of ours); the real node's kubelet owns its
    // Node and pods. Nodes created by tests carry the annotation too (simulatedNode).
    'kwok-controller': [
      { key: 'manage-all-nodes', value: 'false', override: true },
      { key: 'manage-nodes-with-annotation-selector', value: 'kwok.x-k8s.io/node=fake' },
    ],
  };
}

async function writeKwokctlConfig(): Promise<void> {
  const configuration = [
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokctlConfiguration',
    'options:',
    '  runtime: binary',
    '  bindAddress: 127.0.0.1',
    `  kubeApiserverPort: ${endpoints.kubeApiserverPort}`,
    // Notice a lost node within seconds rather than minutes (self-healing tests need it). The factor
    // of 1 stops kwokctl from multiplying these (its default is 5).
    '  heartbeatFactor: 1',
    '  nodeLeaseDurationSeconds: 10',
    '  kubeControllerManagerNodeMonitorGracePeriodMilliseconds: 20000',
    '  kubeControllerManagerNodeMonitorPeriodMilliseconds: 1000',
    '  disableQPSLimits: true',
    // kwokctl copies the policy into the cluster and has kube-apiserver write paths.auditLog.
    `  kubeAuditPolicy: ${paths.auditPolicy}`,
    'componentsPatches:',
    ...Object.entries(componentArgs()).flatMap(([component, args]) => [
      `- name: ${component}`,
      '  extraArgs:',
      ...args.flatMap(({ key, value, override }) => [
        `  - key: ${key}`,
        `    value: ${JSON.stringify(value)}`,
        ...(override ? ['    override: true'] : []),
      ]),
    ]),
  ].join('\n');
  const ownStages = await readFile(join(stackSourceDir, 'stages', 'faults.yaml'), 'utf8');
  const documents = [configuration, ...(await kwokModuleStages()), ownStages];
  await mkdir(paths.kwokWorkdir, { recursive: true });
  await writeFile(paths.auditPolicy, k8s.dumpYaml(auditPolicy));
  await writeFile(paths.kwokConfig, documents.map((d) => d.trim()).join('\n---\n') + '\n');
}

function kubeConfigFromFile(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  return kc;
}

export async function apiserverIsReady(): Promise<boolean> {
  if (!existsSync(paths.kubeconfig)) return false;
  try {
    const kc = kubeConfigFromFile();
    const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
    return nodes.items.some((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  } catch {
    return false;
  }
}

/** A Node that KWOK simulates (it manages Nodes annotated `kwok.x-k8s.io/node: fake`). */
export function simulatedNode(
  name: string,
  labels: Record<string, string> = {},
  taints: k8s.V1Taint[] = [],
): k8s.V1Node {
  return {
    metadata: {
      name,
      labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { taints },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  };
}

async function ensureClusterObjects(): Promise<void> {
  const kc = kubeConfigFromFile();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  for (const name of simulatedNodeNames) {
    await createIfMissing(() => core.createNode({ body: simulatedNode(name) }));
  }
  await createIfMissing(() =>
    storage.createStorageClass({
      body: {
        metadata: { name: defaultStorageClass, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: 'kwok.x-k8s.io/volume',
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
        allowVolumeExpansion: true,
      },
    }),
  );
  // The ServiceAccount admission plugin rejects pods until the namespace's default account exists.
  await waitFor(
    'the default ServiceAccount',
    async () =>
      (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })) ? true : undefined,
    60_000,
  );
}

async function createIfMissing(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function startCluster(): Promise<'started' | 'running'> {
  // A fault test stopped kube-apiserver alone and never started it (it was interrupted): only it is missing.
  await startKubeApiserver();
  if (await apiserverIsReady()) return 'running';
  if (!(await portIsFree(endpoints.kubeApiserverPort))) {
    throw new Error(
      `port ${endpoints.kubeApiserverPort} for kube-apiserver is in use by another process; stop it or set SNO_KUBE_APISERVER_PORT`,
    );
  }
  await writeKwokctlConfig();
  const clusterDir = paths.clusterDir;
  const args = existsSync(clusterDir)
    ? ['start', 'cluster', '--name', endpoints.clusterName, '--wait', '2m']
    : [
        'create',
        'cluster',
        '--name',
        endpoints.clusterName,
        '--config',
        paths.kwokConfig,
        '--kubeconfig',
        '',
        '--wait',
        '2m',
      ];
  try {
    await run(binaries.kwokctl, args, { env: kwokEnv(), maxBuffer: 16 * 1024 * 1024 });
    await copyFile(join(clusterDir, 'kubeconfig.yaml'), paths.kubeconfig);
    await ensureClusterObjects();
    await waitFor('a Ready simulated node', async () => ((await apiserverIsReady()) ? true : undefined), 60_000, 250);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' | ');
    // A half-started cluster would make the next `up` fail the same way: leave nothing behind.
    await stopCluster().catch(() => undefined);
    throw new Error(
      `starting the KWOK cluster failed: ${stderr ?? (error instanceof Error ? error.message : String(error))}; logs: ${join(clusterDir, 'logs')}`,
    );
  }
  return 'started';
}

export async function stopCluster(): Promise<boolean> {
  const clusterDir = paths.clusterDir;
  if (!existsSync(clusterDir)) return false;
  // kwokctl skips components whose process already died and can then leave the others running;
  // stop every process it recorded as well, so `down` always frees the ports.
  const pidsDir = join(clusterDir, 'pids');
  const pidFiles = existsSync(pidsDir) ? (await readdir(pidsDir)).map((f) => join(pidsDir, f)) : [];
  await run(binaries.kwokctl, ['delete', 'cluster', '--name', endpoints.clusterName, '--kubeconfig', ''], {
    env: kwokEnv(),
  }).catch(() => undefined);
  await Promise.all(pidFiles.map((file) => stopProcess(file, 5000)));
  await rm(clusterDir, { recursive: true, force: true });
  return true;
}

export async function clusterStatus(): Promise<string> {
  if (await apiserverIsReady())
    return `running at https://127.0.0.1:${endpoints.kubeApiserverPort}; kubeconfig ${paths.kubeconfig}`;
  return existsSync(join(paths.kwokWorkdir, 'clusters', endpoints.clusterName)) ? 'created but not ready' : 'stopped';
}
