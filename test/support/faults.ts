import * as k8s from '@kubernetes/client-node';

/** Annotation protocol of stack/stages/faults.yaml. */
const prefix = 'fault.stack.symbol.nodeoperator.io';

export type PodFault =
  | { kind: 'pod-failed'; container?: string; exitCode?: number; reason?: string }
  | { kind: 'crash-loop'; container?: string; exitCode?: number; reason?: string; restartInterval?: string };

/** Removes an injected fault: a crash loop stops restarting (the pod stays as it is, like a kubelet's). */
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
  const annotations: Record<string, string> = { [`${prefix}/inject`]: fault.kind };
  if (fault.container !== undefined) annotations[`${prefix}/container`] = fault.container;
  if (fault.exitCode !== undefined) annotations[`${prefix}/exit-code`] = String(fault.exitCode);
  if (fault.reason !== undefined) annotations[`${prefix}/reason`] = fault.reason;
  if (fault.kind === 'crash-loop' && fault.restartInterval !== undefined)
    annotations[`${prefix}/restart-interval`] = fault.restartInterval;
  await kc
    .makeApiClient(k8s.CoreV1Api)
    .patchNamespacedPod(
      { name: pod, namespace, body: { metadata: { annotations } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
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
