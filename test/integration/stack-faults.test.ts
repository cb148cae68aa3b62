import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testKubeConfig, uniqueName, watchUntil, withNamespace } from '../support/cluster.js';
import { clearPodFault, injectPodFault, setNodeNotReady, unpullableImage } from '../support/faults.js';

async function runningPod(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  containers = ['server', 'broker'],
): Promise<k8s.V1Pod> {
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: { containers: containers.map((c) => ({ name: c, image: `registry.example/${c}:1` })) },
    },
  });
  return watchUntil<k8s.V1Pod>(
    kc,
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (p) => p.metadata?.name === name && p.status?.phase === 'Running',
  );
}

const container = (pod: k8s.V1Pod, name: string): k8s.V1ContainerStatus | undefined =>
  pod.status?.containerStatuses?.find((c) => c.name === name);

test('fault stage pod-failed: a Running pod goes Failed with the injected exit code and reason', async () => {
  await withNamespace('fault-failed', async (namespace, kc) => {
    await runningPod(kc, namespace, 'victim');
    await injectPodFault(kc, namespace, 'victim', {
      kind: 'pod-failed',
      container: 'server',
      exitCode: 137,
      reason: 'OOMKilled',
    });
    const pod = await watchUntil<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (p) => p.status?.phase === 'Failed',
    );
    assert.equal(container(pod, 'server')?.state?.terminated?.exitCode, 137);
    assert.equal(container(pod, 'server')?.state?.terminated?.reason, 'OOMKilled');
    assert.equal(container(pod, 'broker')?.state?.terminated?.exitCode, 0, 'only the named container failed');
  });
});

test('fault stage crash-loop: CrashLoopBackOff with lastState exit code, and a rising restart count', async () => {
  await withNamespace('fault-crash', async (namespace, kc) => {
    await runningPod(kc, namespace, 'victim');
    await injectPodFault(kc, namespace, 'victim', {
      kind: 'crash-loop',
      container: 'server',
      exitCode: 253,
      restartInterval: '500ms',
    });
    const pods = `/api/v1/namespaces/${namespace}/pods`;
    let pod = await watchUntil<k8s.V1Pod>(
      kc,
      pods,
      {},
      (p) => container(p, 'server')?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(container(pod, 'server')?.lastState?.terminated?.exitCode, 253);
    assert.equal(container(pod, 'broker')?.ready, true, 'the other container keeps running');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const firstCount = container(pod, 'server')?.restartCount ?? 0;
    assert.ok(firstCount >= 1);

    pod = await watchUntil<k8s.V1Pod>(
      kc,
      pods,
      {},
      (p) => (container(p, 'server')?.restartCount ?? 0) >= firstCount + 2,
    );
    assert.equal(container(pod, 'server')?.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(container(pod, 'broker')?.restartCount, 0);

    await clearPodFault(kc, namespace, 'victim');
    const settled = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPod({ namespace, name: 'victim' });
    await sleep(1500);
    const later = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPod({ namespace, name: 'victim' });
    assert.ok(
      (container(later, 'server')?.restartCount ?? 0) <= (container(settled, 'server')?.restartCount ?? 0) + 1,
      'restarts stop once the fault is cleared',
    );
  });
});

test('fault stage image-pull: an image from registry.invalid stays in ImagePullBackOff', async () => {
  await withNamespace('fault-image', async (namespace, kc) => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: 'victim' }, spec: { containers: [{ name: 'server', image: unpullableImage }] } },
    });
    const pod = await watchUntil<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (p) => container(p, 'server')?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    assert.equal(pod.status?.phase, 'Pending');
    await sleep(2000);
    const later = await core.readNamespacedPod({ namespace, name: 'victim' });
    assert.equal(
      container(later, 'server')?.state?.waiting?.reason,
      'ImagePullBackOff',
      'the pod never became Running',
    );
  });
});

test('fault stage node-not-ready: a simulated node reports NotReady on demand and recovers', async () => {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = uniqueName('kwok-fault-node');
  // Tainted so that no other test's pod lands on a node this test is about to break.
  await core.createNode({
    body: {
      metadata: { name, labels: { type: 'kwok' }, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
      spec: { taints: [{ key: 'symbol.nodeoperator.io/fault-test', effect: 'NoSchedule' }] },
    },
  });
  const readyStatus = (n: k8s.V1Node): string | undefined =>
    n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  try {
    await watchUntil<k8s.V1Node>(
      kc,
      '/api/v1/nodes',
      {},
      (n) => n.metadata?.name === name && readyStatus(n) === 'True',
    );
    await setNodeNotReady(kc, name, true);
    await watchUntil<k8s.V1Node>(
      kc,
      '/api/v1/nodes',
      {},
      (n) => n.metadata?.name === name && readyStatus(n) === 'False',
    );
    await setNodeNotReady(kc, name, false);
    await watchUntil<k8s.V1Node>(
      kc,
      '/api/v1/nodes',
      {},
      (n) => n.metadata?.name === name && readyStatus(n) === 'True',
    );
  } finally {
    await core.deleteNode({ name }).catch(() => undefined);
  }
});
