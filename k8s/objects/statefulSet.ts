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
import type { V1PersistentVolumeClaim, V1PodSpec, V1StatefulSet, V1Volume } from '@kubernetes/client-node';
import {
  ANNOTATION_CONFIG_HASH,
  isApiRole,
  LABEL_MANAGED_BY,
  MANAGER_NAME,
  type ParsedSymbolNode,
} from '../symbolNode.js';
import { HARVESTING_FILE } from './configMaps.js';
import {
  brokerContainer,
  mongoContainer,
  mongoInitContainer,
  recoveryContainer,
  restContainer,
  seedInitContainer,
  serverContainer,
} from './containers.js';
import { checkBuildContext, type BuildContext } from './context.js';
import { CONTAINERS, RUN_AS_GROUP, RUN_AS_USER, TERMINATION_GRACE_SECONDS, VOLUMES } from './layout.js';
import { childMetadata, commonLabels, selectorLabels } from './metadata.js';
import { DATA_VOLUME, objectNames } from './names.js';

export const MODE_SECRET = 0o400;
export const MODE_CONFIG = 0o444;

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
