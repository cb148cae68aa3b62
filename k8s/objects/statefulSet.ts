/**
 * The StatefulSet that runs one Symbol node: always one replica (a node is a singleton: one key pair, one
 * data volume), a stable pod name and a PersistentVolumeClaim that follows the pod.
 *
 * Container order
 * ---------------
 * Peer:   init: seed-init → recovery;            containers: server.
 * API/dual:
 *         init: seed-init → mongo (sidecar) → mongo-init → recovery → server (sidecar) → broker (sidecar);
 *         containers: rest.
 *
 * Why: catapult.recovery replays broker queues into MongoDB, so MongoDB must be up before it, and recovery
 * assumes server and broker are stopped, so it must run before both (facts §3). shoestring starts Mongo, then
 * prepares the database, then the server, then the broker, then REST. Kubernetes orders only init containers:
 * each starts after the previous one has completed, or, for a native sidecar (init container with
 * `restartPolicy: Always`, GA in 1.33), after its startupProbe has succeeded. So MongoDB, the server and the
 * broker are native sidecars whose startup probes (TCP 27017, 7900, 7902) gate the next step, and REST, the
 * only regular container, starts after all of them. On shutdown Kubernetes stops the regular container first
 * and then the sidecars in reverse order: REST, broker, server, MongoDB — so MongoDB outlives the broker that
 * writes to it. A peer has nothing to order: the server is its regular container.
 *
 * Crashes: every catapult process leaves `<data>/<process>.lock` when it dies; the next start fails until
 * catapult.recovery has run. Init containers run when the pod starts, not when one container restarts in
 * place. A peer's server start runs catapult.recovery itself when it finds a lock (layout.ts
 * PEER_SERVER_START_SCRIPT), so most crashes heal on the kubelet's in-place restart. The server and broker of an
 * API node share /data, so their starts only report a left lock (exit 253); then either
 * BuildContext.restartAllContainersOnCrash (Kubernetes ≥ 1.36) restarts the whole pod on a non-zero exit, or the
 * operator repairs it: worker/podWatcher.ts sees the crash and workflows/remediateNode.ts stops the node, runs
 * catapult.recovery as a Job on its volume (recoveryJob.ts) and starts it again. A failed catapult (or
 * seed-init) container leaves the tail of its log as its termination message (FallbackToLogsOnError), so what it
 * printed before it failed reaches the SymbolNode's condition and Event.
 *
 * Security: non-root (uid/gid 1000, as shoestring), fsGroup 1000 with OnRootMismatch (no recursive chown of a
 * multi-hundred-GB volume on every start), no privilege escalation, all capabilities dropped, RuntimeDefault
 * seccomp, read-only root file systems with an emptyDir /tmp, no service account token, no service links.
 * Secrets are mounted with mode 0400; the kubelet adds group read for the fsGroup. The main account key
 * (`<name>-identity` or spec.identitySecretRef) is never mounted.
 */
import type {
  V1Container,
  V1ContainerPort,
  V1EnvVar,
  V1PersistentVolumeClaim,
  V1PodSpec,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1StatefulSet,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { PinnedChecksum } from '../../symbol/networkPackage.js';
import {
  ANNOTATION_CONFIG_HASH,
  isApiRole,
  LABEL_MANAGED_BY,
  MANAGER_NAME,
  type ParsedSymbolNode,
} from '../symbolNode.js';
import { HARVESTING_FILE, REST_CONFIG_FILE } from './configMaps.js';
import { checkBuildContext, normaliseSeedChecksum, type BuildContext } from './context.js';
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
  RUN_AS_GROUP,
  RUN_AS_USER,
  SEED_INIT_COMMAND,
  TERMINATION_GRACE_SECONDS,
  VOLUMES,
} from './layout.js';
import { childMetadata, commonLabels, selectorLabels } from './metadata.js';
import { DATA_VOLUME, objectNames } from './names.js';

export const MODE_SECRET = 0o400;
export const MODE_CONFIG = 0o444;

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

function seedInitContainer(node: ParsedSymbolNode, ctx: BuildContext): V1Container {
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

function serverContainer(node: ParsedSymbolNode, ctx: BuildContext, sidecar: boolean): V1Container {
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

function brokerContainer(node: ParsedSymbolNode, ctx: BuildContext): V1Container {
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

function restContainer(node: ParsedSymbolNode): V1Container {
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

function volumes(node: ParsedSymbolNode, ctx: BuildContext): V1Volume[] {
  const names = objectNames(node.metadata.name);
  const list: V1Volume[] = [
    { name: VOLUMES.resources, configMap: { name: names.resourcesConfigMap, defaultMode: MODE_CONFIG } },
    { name: VOLUMES.certificates, secret: { secretName: names.certificatesSecret, defaultMode: MODE_SECRET } },
    { name: VOLUMES.tmp, emptyDir: { sizeLimit: '256Mi' } },
  ];
  if (node.spec.harvester) {
    // The server alone sees the harvesting keys: the broker and the internet-facing REST use `resources`.
    list.push({
      name: VOLUMES.serverResources,
      projected: {
        defaultMode: MODE_CONFIG,
        sources: [
          { configMap: { name: names.resourcesConfigMap } },
          {
            secret: {
              name: names.harvestingSecret,
              items: [{ key: HARVESTING_FILE, path: HARVESTING_FILE, mode: MODE_SECRET }],
            },
          },
        ],
      },
    });
  }
  if (isApiRole(node.spec.role)) {
    list.push(
      { name: VOLUMES.restConfig, configMap: { name: names.restConfigMap, defaultMode: MODE_CONFIG } },
      { name: VOLUMES.mongoScripts, configMap: { name: names.mongoScriptsConfigMap, defaultMode: MODE_CONFIG } },
    );
  }
  const s = ctx.seedPackage;
  if (s.kind === 'configMap') {
    list.push({
      name: VOLUMES.package,
      configMap: { name: s.name, items: [{ key: s.key, path: s.key }], defaultMode: MODE_CONFIG },
    });
  }
  return list;
}

function podSpec(node: ParsedSymbolNode, ctx: BuildContext): V1PodSpec {
  const api = isApiRole(node.spec.role);
  const initContainers = api
    ? [
        seedInitContainer(node, ctx),
        mongoContainer(node),
        mongoInitContainer(node),
        recoveryContainer(node),
        serverContainer(node, ctx, true),
        brokerContainer(node, ctx),
      ]
    : [seedInitContainer(node, ctx), recoveryContainer(node)];
  const containers = api ? [restContainer(node)] : [serverContainer(node, ctx, false)];
  return {
    initContainers,
    containers,
    volumes: volumes(node, ctx),
    terminationGracePeriodSeconds: api ? TERMINATION_GRACE_SECONDS.api : TERMINATION_GRACE_SECONDS.peer,
    ...commonPodSettings(node),
  };
}

/** Pod-level settings every pod on the node's volume shares: the StatefulSet's and the recovery Job's. */
export function commonPodSettings(
  node: ParsedSymbolNode,
): Pick<
  V1PodSpec,
  | 'automountServiceAccountToken'
  | 'enableServiceLinks'
  | 'securityContext'
  | 'hostAliases'
  | 'nodeSelector'
  | 'tolerations'
> {
  const { nodeSelector, tolerations } = node.spec;
  return {
    ...(nodeSelector !== undefined ? { nodeSelector } : {}),
    ...(tolerations !== undefined ? { tolerations } : {}),
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_GROUP,
      fsGroup: RUN_AS_GROUP,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // Network packages name the pod's neighbours as in shoestring's compose network (rest.json: db, client,
    // broker); in a pod they are all on localhost.
    ...(isApiRole(node.spec.role) ? { hostAliases: [{ ip: '127.0.0.1', hostnames: ['db', 'client', 'broker'] }] } : {}),
  };
}

function volumeClaimTemplate(node: ParsedSymbolNode): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: DATA_VOLUME, labels: { ...selectorLabels(node), [LABEL_MANAGED_BY]: MANAGER_NAME } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: node.spec.volumeSize } },
      ...(node.spec.storageClassName !== undefined ? { storageClassName: node.spec.storageClassName } : {}),
    },
  };
}

/**
 * The node's StatefulSet. Throws BuildError (or InvalidNameError) for a malformed context or a name that
 * cannot work.
 *
 * volumeClaimTemplates are immutable in a StatefulSet: this builder renders them from the current spec, so
 * when updating an existing StatefulSet keep its volumeClaimTemplates and grow the PVC
 * (`objectNames().dataVolumeClaim`) directly instead.
 */
export function buildStatefulSet(node: ParsedSymbolNode, ctx: BuildContext): V1StatefulSet {
  checkBuildContext(ctx);
  const names = objectNames(node.metadata.name);
  const retention = node.spec.dataRetentionPolicy;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMetadata(node, names.statefulSet, 'node'),
    spec: {
      replicas: 1,
      serviceName: names.headlessService,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      revisionHistoryLimit: 5,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: retention, whenScaled: 'Retain' },
      selector: { matchLabels: selectorLabels(node) },
      template: {
        metadata: {
          labels: commonLabels(node, 'node'),
          annotations: {
            ...node.spec.podAnnotations,
            [ANNOTATION_CONFIG_HASH]: ctx.configHash,
            'kubectl.kubernetes.io/default-container': CONTAINERS.server,
          },
        },
        spec: podSpec(node, ctx),
      },
      volumeClaimTemplates: [volumeClaimTemplate(node)],
    },
  };
}
