import * as k8s from '@kubernetes/client-node';

/** Annotation protocol of stack/stages/faults.yaml. */
const prefix = 'fault.stack.symbol.nodeoperator.io';

export type PodFault =
  /** A Running pod goes Failed; `container` (a regular container or a native sidecar) exits `exitCode` (137). */
  | { kind: 'pod-failed'; container?: string; exitCode?: number; reason?: string }
  /** `container` (a regular container or a native sidecar) is in CrashLoopBackOff, restarting every `restartInterval`. */
  | { kind: 'crash-loop'; container?: string; exitCode?: number; reason?: string; restartInterval?: string }
  /** A pod owned by a Job ends Failed with `exitCode` (1) instead of Succeeded; other pods are unaffected. */
  | { kind: 'job-failed'; container?: string; exitCode?: number; reason?: string }
  /** The pod's node is lost: once deleted it stays Terminating until force-deleted ({@link forceDeletePod}). */
  | { kind: 'kubelet-gone' };

/**
 * The annotations that inject `fault`: for a pod template (a Job's `job-failed`, a pod created with a fault
 * from the start); {@link injectPodFault} sets them on an existing pod.
 */
export function podFaultAnnotations(fault: PodFault): Record<string, string> {
  const annotations: Record<string, string> = { [`${prefix}/inject`]: fault.kind };
  if (fault.kind === 'kubelet-gone') return annotations;
  if (fault.container !== undefined) annotations[`${prefix}/container`] = fault.container;
  if (fault.exitCode !== undefined) annotations[`${prefix}/exit-code`] = String(fault.exitCode);
  if (fault.reason !== undefined) annotations[`${prefix}/reason`] = fault.reason;
  if (fault.kind === 'crash-loop' && fault.restartInterval !== undefined)
    annotations[`${prefix}/restart-interval`] = fault.restartInterval;
  return annotations;
}

/**
 * Removes an injected fault: a crash loop stops restarting (the pod stays as it is, like a kubelet's); a
 * Terminating `kubelet-gone` pod is then deleted (its kubelet is back).
 */
export async function clearPodFault(kc: k8s.KubeConfig, namespace: string, pod: string): Promise<void> {
  await kc
    .makeApiClient(k8s.CoreV1Api)
    .patchNamespacedPod(
      { name: pod, namespace, body: { metadata: { annotations: { [`${prefix}/inject`]: null } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
}

export async function injectPodFault(
  kc: k8s.KubeConfig,
  namespace: string,
  pod: string,
  fault: PodFault,
): Promise<void> {
  await kc
    .makeApiClient(k8s.CoreV1Api)
    .patchNamespacedPod(
      { name: pod, namespace, body: { metadata: { annotations: podFaultAnnotations(fault) } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
}

/**
 * Deletes a pod without waiting for its kubelet (gracePeriodSeconds 0, `kubectl delete --force
 * --grace-period=0`): the only way to remove a Terminating `kubelet-gone` pod.
 */
export async function forceDeletePod(kc: k8s.KubeConfig, namespace: string, pod: string): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 0 });
}

/** KWOK's own chaos stage: the simulated node reports Ready=False. */
export async function setNodeNotReady(kc: k8s.KubeConfig, node: string, notReady: boolean): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).patchNode(
    {
      name: node,
      body: { metadata: { labels: { 'node-not-ready.stage.kwok.x-k8s.io': notReady ? 'true' : null } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** An image that the simulated kubelet can never pull (the `.invalid` TLD never resolves). */
export const unpullableImage = 'registry.invalid/symbolplatform/symbol-server:missing';
