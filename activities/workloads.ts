import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isNotFound, readIfExists, type KubeClients } from '../k8s/client.js';
import {
  buildHeadlessService,
  buildService,
  buildStatefulSet,
  configHash,
  objectNames,
  resolveSeedPackage,
  type BuiltInPackages,
} from '../k8s/objects/index.js';
import { LABEL_INSTANCE, type ParsedSymbolNode } from '../k8s/symbolNode.js';
import { NETWORK_PACKAGE_PRESETS } from '../symbol/index.js';
import { applyObject, deletePodIfUnchanged } from './apply.js';
import { recordNodeEvent } from './events.js';
import type { SharedWatch } from './sharedWatch.js';
import { certificatesFingerprint } from './nodeConfiguration.js';
import type { NodeConfiguration, NodeIdentity, NodeRef } from './types.js';

/** The official package locations; the seed-init container downloads the seed from there. */
export const builtInPackages: BuiltInPackages = Object.fromEntries(
  Object.entries(NETWORK_PACKAGE_PRESETS).map(([network, preset]) => [
    network,
    { url: preset.url, checksum: preset.checksum },
  ]),
);

function readStatefulSet(kube: KubeClients, namespace: string, name: string): Promise<k8s.V1StatefulSet | undefined> {
  return readIfExists(() => kube.apps.readNamespacedStatefulSet({ namespace, name }));
}

/**
 * volumeClaimTemplates cannot change on an existing StatefulSet. Keep the stored template and grow
 * the claim itself (the CRD only lets volumeSize grow; the StorageClass must allow expansion).
 */
async function keepClaimTemplates(
  kube: KubeClients,
  node: ParsedSymbolNode,
  desired: k8s.V1StatefulSet,
  existing: k8s.V1StatefulSet,
): Promise<void> {
  desired.spec!.volumeClaimTemplates = existing.spec?.volumeClaimTemplates;
  const claim = objectNames(node.metadata.name).dataVolumeClaim;
  const wanted = String(node.spec.volumeSize);
  try {
    const pvc = await kube.core.readNamespacedPersistentVolumeClaim({
      namespace: node.metadata.namespace,
      name: claim,
    });
    if (pvc.spec?.resources?.requests?.storage !== wanted) {
      await kube.core.patchNamespacedPersistentVolumeClaim(
        {
          namespace: node.metadata.namespace,
          name: claim,
          body: { spec: { resources: { requests: { storage: wanted } } } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function applyNodeWorkloadsFor(
  kube: KubeClients,
  operatorImage: string,
  node: ParsedSymbolNode,
  configuration: NodeConfiguration,
  identity?: NodeIdentity,
): Promise<void> {
  const names = objectNames(node.metadata.name);
  const statefulSet = buildStatefulSet(node, {
    operatorImage,
    configHash: identity
      ? configHash({ configuration: configuration.configHash, certificates: certificatesFingerprint(identity) })
      : configuration.configHash,
    // the operator's own copy of the package (ensureNodeConfiguration published it) wins over the official URL
    seedPackage: configuration.seedPackage ?? resolveSeedPackage(node, builtInPackages),
  });
  // Everything at once: a new node (the common case) needs one round trip. Only a StatefulSet whose claim
  // template would change is refused (422); it is then read, and its claim template kept while the claim grows.
  const [applied] = await Promise.all([
    applyObject(kube, statefulSet).catch(async (error: unknown) => {
      const existing =
        error instanceof k8s.ApiException && error.code === 422
          ? await readStatefulSet(kube, node.metadata.namespace, names.statefulSet)
          : undefined;
      if (!existing) throw error;
      await keepClaimTemplates(kube, node, statefulSet, existing);
      return applyObject(kube, statefulSet);
    }),
    applyObject(kube, buildHeadlessService(node)),
    applyObject(kube, buildService(node)),
  ]);
  // Generation 1 is a StatefulSet created just now, or never changed since: no pod of an older template.
  if ((applied.metadata?.generation ?? 1) > 1) {
    await deletePodStuckOnOldTemplate(kube, node.metadata.namespace, names.pod, statefulSet);
  }
}

const NEVER_STARTED = ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError'];

/**
 * A StatefulSet does not replace a pod of an older revision that never became Ready: after a bad image is
 * reverted, the pod stays broken until someone deletes it (Kubernetes documents this as "forced rollback").
 * The pod is deleted when one of its containers never started and the new template runs that container with
 * another image: nothing of catapult ran in it, so nothing is lost.
 */
async function deletePodStuckOnOldTemplate(
  kube: KubeClients,
  namespace: string,
  name: string,
  desired: k8s.V1StatefulSet,
): Promise<void> {
  const pod = await readIfExists(() => kube.core.readNamespacedPod({ namespace, name }));
  if (!pod || pod.metadata?.deletionTimestamp) return;
  const template = desired.spec!.template.spec!;
  const wanted = new Map([...(template.initContainers ?? []), ...template.containers].map((c) => [c.name, c.image]));
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const stuck = statuses.some((cs) => {
    const specImage = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
      (c) => c.name === cs.name,
    )?.image;
    return (
      NEVER_STARTED.includes(cs.state?.waiting?.reason ?? '') &&
      wanted.has(cs.name) &&
      wanted.get(cs.name) !== specImage
    );
  });
  if (!stuck) return;
  await deletePodIfUnchanged(kube, { namespace, name, uid: pod.metadata?.uid });
}

export function isRolledOutAndReady(sts: k8s.V1StatefulSet | undefined): boolean {
  const status = sts?.status;
  return (
    status !== undefined &&
    status.observedGeneration === sts?.metadata?.generation &&
    status.updateRevision === status.currentRevision &&
    (status.readyReplicas ?? 0) >= 1
  );
}

function describeRollout(sts: k8s.V1StatefulSet | undefined): string {
  const status = sts?.status;
  return `${status?.readyReplicas ?? 0}/1 ready, revision ${status?.currentRevision ?? '-'} → ${status?.updateRevision ?? '-'}`;
}

/**
 * Waits until the node's pod runs the StatefulSet's current revision and is Ready, through the
 * worker's shared StatefulSet watch, heartbeating on every change and every 10 s; gives up after
 * `maxWaitMs` with a retryable failure that says where the rollout stands.
 */
export async function waitForNodeReadyFor(
  statefulSets: SharedWatch<k8s.V1StatefulSet>,
  node: { namespace: string; name: string },
  maxWaitMs = 5 * 60_000,
): Promise<void> {
  const { namespace } = node;
  const name = objectNames(node.name).statefulSet;
  const context = Context.current();
  const heartbeat = setInterval(() => context.heartbeat(describeRollout(statefulSets.get(namespace, name))), 10_000);
  try {
    const ready = await Promise.race([
      statefulSets.waitFor(namespace, name, (sts) => (isRolledOutAndReady(sts) ? true : undefined), {
        timeoutMs: maxWaitMs,
        onChange: (sts) => context.heartbeat(describeRollout(sts)),
        signal: context.cancellationSignal,
      }),
      context.cancelled,
    ]);
    if (ready) return;
  } finally {
    clearInterval(heartbeat);
  }
  throw ApplicationFailure.create({
    type: 'NotReadyYet',
    message: `StatefulSet ${name}: ${describeRollout(statefulSets.get(namespace, name))}`,
  });
}

function isKubernetesNodeReady(node: k8s.V1Node | undefined): boolean {
  return (node?.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** How often a pod that stays Terminating is looked at again: its Kubernetes node may have been lost meanwhile. */
const STUCK_RECHECK_MS = 5000;

/**
 * Waits, on the worker's cache of node pods, until the node's pods are gone (after its StatefulSet was scaled to
 * zero), so nothing else has the volume; returns the pods it force-deleted. A pod that stays Terminating because
 * its Kubernetes node is NotReady (no kubelet left to confirm the stop) is force-deleted: its containers are not
 * running anywhere the cluster can reach, which is the documented condition for a forced StatefulSet pod deletion.
 * Heartbeats on every change and every few seconds.
 */
export async function waitForNodePodsGoneFor(
  kube: KubeClients,
  pods: SharedWatch<k8s.V1Pod>,
  ref: NodeRef,
): Promise<string[]> {
  const context = Context.current();
  const podName = objectNames(ref.name).pod;
  const forceDeleted: string[] = [];
  const nodePods = () => pods.list(ref.namespace).filter((pod) => pod.metadata?.labels?.[LABEL_INSTANCE] === ref.name);
  for (;;) {
    // Resolves once the cache is listed: its view of the pods is then complete.
    await pods.waitFor(ref.namespace, podName, () => true, {
      timeoutMs: 24 * 60 * 60_000,
      signal: context.cancellationSignal,
    });
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    const remaining = nodePods();
    if (remaining.length === 0) return forceDeleted;
    for (const pod of remaining) {
      const name = pod.metadata?.name ?? '';
      const host = pod.spec?.nodeName;
      if (!pod.metadata?.deletionTimestamp || !host || forceDeleted.includes(name)) continue;
      if (isKubernetesNodeReady(await readIfExists(() => kube.core.readNode({ name: host })))) continue;
      await deletePodIfUnchanged(kube, { namespace: ref.namespace, name, uid: pod.metadata.uid }, 0);
      forceDeleted.push(name);
      await recordNodeEvent(kube, ref, {
        type: 'Warning',
        reason: 'PodForceDeleted',
        message: `pod ${name} was stuck Terminating on Kubernetes node ${host}, which is not Ready; force-deleted it`,
      });
    }
    context.heartbeat(`waiting for ${remaining.map((p) => p.metadata?.name).join(', ')} to stop`);
    await pods.waitFor(ref.namespace, podName, (pod) => (pod ? undefined : true), {
      timeoutMs: STUCK_RECHECK_MS,
      onChange: () => context.heartbeat('pod changed'),
      signal: context.cancellationSignal,
    });
  }
}
