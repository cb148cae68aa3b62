/**
 * The containers of a node's pod (statefulSet.ts, which explains their order, crash handling and security
 * settings) and of its recovery Job (recoveryJob.ts).
 */
import type {
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { PinnedChecksum } from '../../symbol/networkPackage.js';
import { isApiRole, type ParsedSymbolNode } from '../symbolNode.js';
import { REST_CONFIG_FILE } from './configMaps.js';
import { normaliseSeedChecksum, type BuildContext } from './context.js';
import {
  CATAPULT_ENV,
  catapultCommand,
  CONTAINERS,
  DATA_SUBPATHS,
  DEFAULT_RESOURCES,
  MONGO_INIT_SCRIPT,
  MOUNTS,
  PORTS,
  RECOVERY_SCRIPT,
  SEED_INIT_COMMAND,
  VOLUMES,
} from './layout.js';
import { DATA_VOLUME } from './names.js';

const containerSecurity: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

const tcp = (port: number, o: Omit<V1Probe, 'tcpSocket'>): V1Probe => ({ tcpSocket: { port }, ...o });

/**
 * catapult writes no termination message file; with this the kubelet takes the tail of the container's log
 * (at most 80 lines or 2 KB) when it fails, and the pod watcher puts its last lines into the problem it reports.
 */
const LOG_TAIL_ON_ERROR = { terminationMessagePolicy: 'FallbackToLogsOnError' } as const;

/** catapult loads (or imports) its state before it listens: up to an hour on a large chain. */
const SERVER_PROBES = {
  startupProbe: tcp(PORTS.peer, { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 360 }),
  readinessProbe: tcp(PORTS.peer, { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 }),
  livenessProbe: tcp(PORTS.peer, { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 10 }),
};

function dataMount(subPath: string, mountPath: string, readOnly = false): V1VolumeMount {
  return { name: DATA_VOLUME, subPath, mountPath, ...(readOnly ? { readOnly } : {}) };
}

const tmpMount: V1VolumeMount = { name: VOLUMES.tmp, mountPath: MOUNTS.tmp };

function catapultMounts(node: ParsedSymbolNode, resourcesVolume: string, withSeed: boolean): V1VolumeMount[] {
  return [
    { name: resourcesVolume, mountPath: MOUNTS.resources, readOnly: true },
    { name: VOLUMES.certificates, mountPath: MOUNTS.certificates, readOnly: true },
    dataMount(DATA_SUBPATHS.data, MOUNTS.data),
    ...(withSeed ? [dataMount(DATA_SUBPATHS.seed, MOUNTS.seed, true)] : []),
    dataMount(DATA_SUBPATHS.logs, MOUNTS.logs),
    // The server wipes used voting keys, so the directory is writable.
    ...(withSeed && node.spec.voter ? [dataMount(DATA_SUBPATHS.votingKeys, MOUNTS.votingKeys)] : []),
    tmpMount,
  ];
}

function crashRules(ctx: BuildContext): Pick<V1Container, 'restartPolicy' | 'restartPolicyRules'> {
  if (!ctx.restartAllContainersOnCrash) return {};
  return {
    restartPolicy: 'Always',
    restartPolicyRules: [{ action: 'RestartAllContainers', exitCodes: { operator: 'NotIn', values: [0] } }],
  };
}

function serverResources(node: ParsedSymbolNode): V1ResourceRequirements {
  const r = node.spec.resources;
  if (r === undefined) return DEFAULT_RESOURCES.server;
  return {
    ...(r.requests !== undefined ? { requests: r.requests } : {}),
    ...(r.limits !== undefined ? { limits: r.limits } : {}),
  };
}

function seedChecksumArgument(checksum: PinnedChecksum): string {
  const { algorithm, hex } = normaliseSeedChecksum(checksum);
  return `${algorithm}:${hex}`;
}

export function seedInitContainer(node: ParsedSymbolNode, ctx: BuildContext): V1Container {
  const s = ctx.seedPackage;
  // Separate argv elements, no shell: a URL from the spec cannot inject anything.
  // `--package-checksum <algorithm>:<lower-case hex>`, e.g. `sha3-512:895a…` (worker/seedInit.ts parses it).
  const checksum = s.checksum !== undefined ? ['--package-checksum', seedChecksumArgument(s.checksum)] : [];
  const source =
    s.kind === 'url'
      ? ['--package-url', s.url, ...checksum]
      : ['--package-file', `${MOUNTS.package}/${s.key}`, ...checksum];
  return {
    name: CONTAINERS.seedInit,
    image: ctx.operatorImage,
    imagePullPolicy: 'IfNotPresent',
    command: [...SEED_INIT_COMMAND],
    // Contract with seed-init: do nothing if <data-dir>/index.dat exists (the chain was already imported) or
    // the seed directory is complete; otherwise fetch the package, verify it, and copy its seed/ atomically.
    args: [
      '--network',
      node.spec.network,
      '--seed-dir',
      `${MOUNTS.volumeRoot}/${DATA_SUBPATHS.seed}`,
      '--data-dir',
      `${MOUNTS.volumeRoot}/${DATA_SUBPATHS.data}`,
      ...source,
    ],
    volumeMounts: [
      { name: DATA_VOLUME, mountPath: MOUNTS.volumeRoot },
      ...(s.kind === 'configMap' ? [{ name: VOLUMES.package, mountPath: MOUNTS.package, readOnly: true }] : []),
      tmpMount,
    ],
    resources: DEFAULT_RESOURCES.seedInit,
    securityContext: containerSecurity,
    ...LOG_TAIL_ON_ERROR,
  };
}

/** catapult.recovery with the server's image, mounts and resources; `script` decides when it runs. */
export function recoveryContainer(node: ParsedSymbolNode, script = RECOVERY_SCRIPT): V1Container {
  return {
    name: CONTAINERS.recovery,
    image: node.spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', script],
    env: CATAPULT_ENV,
    volumeMounts: catapultMounts(node, VOLUMES.resources, true),
    // Recovery reloads the chain state like the server does.
    resources: serverResources(node),
    securityContext: containerSecurity,
    ...LOG_TAIL_ON_ERROR,
  };
}

export function serverContainer(node: ParsedSymbolNode, ctx: BuildContext, sidecar: boolean): V1Container {
  const port: V1ContainerPort = {
    name: 'peer',
    containerPort: PORTS.peer,
    protocol: 'TCP',
    ...(node.spec.hostPort ? { hostPort: PORTS.peer } : {}),
  };
  return {
    name: CONTAINERS.server,
    image: node.spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: catapultCommand('catapult.server', isApiRole(node.spec.role) ? 'api' : 'peer'),
    env: CATAPULT_ENV,
    ports: [port],
    volumeMounts: catapultMounts(node, node.spec.harvester ? VOLUMES.serverResources : VOLUMES.resources, true),
    resources: serverResources(node),
    ...SERVER_PROBES,
    securityContext: containerSecurity,
    ...LOG_TAIL_ON_ERROR,
    ...(sidecar ? { restartPolicy: 'Always' } : {}),
    ...crashRules(ctx),
  };
}

export function brokerContainer(node: ParsedSymbolNode, ctx: BuildContext): V1Container {
  return {
    name: CONTAINERS.broker,
    image: node.spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: catapultCommand('catapult.broker', 'api'),
    env: CATAPULT_ENV,
    ports: [{ name: 'broker', containerPort: PORTS.broker, protocol: 'TCP' }],
    volumeMounts: catapultMounts(node, VOLUMES.resources, false),
    resources: DEFAULT_RESOURCES.broker,
    startupProbe: tcp(PORTS.broker, { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 360 }),
    livenessProbe: tcp(PORTS.broker, { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 10 }),
    securityContext: containerSecurity,
    ...LOG_TAIL_ON_ERROR,
    restartPolicy: 'Always',
    ...crashRules(ctx),
  };
}

export function mongoContainer(node: ParsedSymbolNode): V1Container {
  return {
    name: CONTAINERS.mongo,
    image: node.spec.mongoImage!,
    imagePullPolicy: 'IfNotPresent',
    // `command` bypasses the image's entrypoint script (no user switching, no writes outside /dbdata and /tmp).
    command: ['mongod', `--dbpath=${MOUNTS.mongoData}`, '--bind_ip=127.0.0.1', `--port=${PORTS.mongo}`],
    ports: [{ name: 'mongo', containerPort: PORTS.mongo, protocol: 'TCP' }],
    volumeMounts: [dataMount(DATA_SUBPATHS.mongo, MOUNTS.mongoData), tmpMount],
    resources: DEFAULT_RESOURCES.mongo,
    startupProbe: tcp(PORTS.mongo, { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 120 }),
    livenessProbe: tcp(PORTS.mongo, { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 6 }),
    securityContext: containerSecurity,
    restartPolicy: 'Always',
  };
}

export function mongoInitContainer(node: ParsedSymbolNode): V1Container {
  return {
    name: CONTAINERS.mongoInit,
    image: node.spec.mongoImage!,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', MONGO_INIT_SCRIPT],
    env: [{ name: 'HOME', value: MOUNTS.tmp }],
    volumeMounts: [{ name: VOLUMES.mongoScripts, mountPath: MOUNTS.mongoScripts, readOnly: true }, tmpMount],
    resources: DEFAULT_RESOURCES.mongoInit,
    securityContext: containerSecurity,
  };
}

export function restContainer(node: ParsedSymbolNode): V1Container {
  const env: V1EnvVar[] = [
    { name: 'HOME', value: MOUNTS.restWorkdir },
    { name: 'NODE_ENV', value: 'production' },
  ];
  return {
    name: CONTAINERS.rest,
    image: node.spec.restImage!,
    imagePullPolicy: 'IfNotPresent',
    command: ['npm', 'start', '--prefix', '/app', `${MOUNTS.restConfig}/${REST_CONFIG_FILE}`],
    workingDir: MOUNTS.restWorkdir,
    env,
    ports: [{ name: 'rest', containerPort: PORTS.rest, protocol: 'TCP' }],
    volumeMounts: [
      { name: VOLUMES.resources, mountPath: MOUNTS.resources, readOnly: true },
      { name: VOLUMES.restConfig, mountPath: MOUNTS.restConfig, readOnly: true },
      { name: VOLUMES.certificates, mountPath: MOUNTS.certificates, readOnly: true },
      dataMount(DATA_SUBPATHS.logs, MOUNTS.logs),
      dataMount(DATA_SUBPATHS.restCache, MOUNTS.restWorkdir),
      tmpMount,
    ],
    resources: DEFAULT_RESOURCES.rest,
    startupProbe: tcp(PORTS.rest, { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 }),
    // 503 while MongoDB or the server is down: takes the pod out of the Service, does not restart REST.
    readinessProbe: {
      httpGet: { path: '/node/health', port: 'rest' },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
    livenessProbe: tcp(PORTS.rest, { periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 6 }),
    securityContext: containerSecurity,
  };
}
