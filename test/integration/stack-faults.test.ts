import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyPod } from '../../workflows/remediation/index.js';
import { absent, testKubeConfig, uniqueName, watchUntil, withNamespace } from '../support/cluster.js';
import {
  clearPodFault,
  forceDeletePod,
  injectPodFault,
  podFaultAnnotations,
  setNodeNotReady,
  unpullableImage,
} from '../support/faults.js';

const image = (name: string): string => `registry.example/${name}:1`;

/** A peer node's layout: regular containers only. */
const peerPodSpec: k8s.V1PodSpec = { containers: ['server', 'broker'].map((name) => ({ name, image: image(name) })) };

/**
 * An API node's layout: an init container that runs to completion, MongoDB, the server and the broker as
 * native sidecars (init containers with restartPolicy Always), and REST as the only regular container.
 */
const apiPodSpec: k8s.V1PodSpec = {
  initContainers: [
    { name: 'seed-init', image: image('seed-init') },
    ...['mongo', 'server', 'broker'].map((name) => ({ name, image: image(name), restartPolicy: 'Always' })),
  ],
  containers: [{ name: 'rest', image: image('rest') }],
};

async function runningPod(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  spec: k8s.V1PodSpec = peerPodSpec,
  annotations: Record<string, string> = {},
): Promise<k8s.V1Pod> {
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({
    namespace,
    body: { metadata: { name, annotations }, spec },
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
const initContainer = (pod: k8s.V1Pod, name: string): k8s.V1ContainerStatus | undefined =>
  pod.status?.initContainerStatuses?.find((c) => c.name === name);

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

test('fault stage crash-loop on a native sidecar: reported in initContainerStatuses, the other containers keep running', async () => {
  await withNamespace('fault-crash-sidecar', async (namespace, kc) => {
    const before = await runningPod(kc, namespace, 'victim', apiPodSpec);
    assert.equal(initContainer(before, 'mongo')?.state?.running !== undefined, true, 'KWOK runs the sidecar');
    await injectPodFault(kc, namespace, 'victim', {
      kind: 'crash-loop',
      container: 'mongo',
      exitCode: 100,
      restartInterval: '500ms',
    });
    const pods = `/api/v1/namespaces/${namespace}/pods`;
    let pod = await watchUntil<k8s.V1Pod>(
      kc,
      pods,
      {},
      (p) => initContainer(p, 'mongo')?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    assert.equal(pod.status?.phase, 'Running');
    const mongo = initContainer(pod, 'mongo');
    assert.equal(mongo?.lastState?.terminated?.exitCode, 100);
    assert.equal(mongo?.ready, false);
    for (const name of ['server', 'broker']) {
      const sidecar = initContainer(pod, name);
      assert.ok(sidecar?.state?.running, `sidecar ${name} keeps running`);
      assert.equal(sidecar?.ready, true);
      assert.equal(sidecar?.started, true);
      assert.equal(sidecar?.restartCount, 0);
    }
    assert.equal(
      initContainer(pod, 'seed-init')?.state?.terminated?.reason,
      'Completed',
      'seed-init ran to completion',
    );
    assert.ok(container(pod, 'rest')?.state?.running, 'the regular container keeps running');
    assert.equal(container(pod, 'rest')?.ready, true);
    assert.equal(pod.status?.containerStatuses?.length, 1, 'a sidecar is not reported as a regular container');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const firstCount = mongo?.restartCount ?? 0;
    assert.ok(firstCount >= 1);

    pod = await watchUntil<k8s.V1Pod>(
      kc,
      pods,
      {},
      (p) => (initContainer(p, 'mongo')?.restartCount ?? 0) >= firstCount + 2,
    );
    assert.equal(initContainer(pod, 'mongo')?.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(initContainer(pod, 'server')?.restartCount, 0);

    // What the operator's pod watcher makes of it.
    const problems = classifyPod(pod, { now: new Date() });
    const crash = problems.find((p) => p.kind === 'CrashLoop');
    assert.equal(crash?.container, 'mongo', JSON.stringify(problems));
    assert.equal(crash?.exitCode, 100);
  });
});

test('fault stage pod-failed on a native sidecar: the pod goes Failed with the exit code of the sidecar', async () => {
  await withNamespace('fault-failed-sidecar', async (namespace, kc) => {
    await runningPod(kc, namespace, 'victim', apiPodSpec);
    await injectPodFault(kc, namespace, 'victim', { kind: 'pod-failed', container: 'server', exitCode: 137 });
    const pod = await watchUntil<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (p) => p.status?.phase === 'Failed',
    );
    assert.equal(initContainer(pod, 'server')?.state?.terminated?.exitCode, 137);
    assert.equal(initContainer(pod, 'server')?.state?.terminated?.reason, 'Error');
    for (const name of ['mongo', 'broker', 'seed-init'])
      assert.equal(initContainer(pod, name)?.state?.terminated?.exitCode, 0, `${name} stopped cleanly`);
    assert.equal(container(pod, 'rest')?.state?.terminated?.exitCode, 0);
    const failed = classifyPod(pod, { now: new Date() });
    assert.ok(
      failed.some((p) => p.kind === 'PodFailed' && /server exited with code 137/.test(p.message)),
      JSON.stringify(failed),
    );
  });
});

test('fault stage job-failed: the pod of a Job ends Failed with the exit code, so the Job fails; other pods are unaffected', async () => {
  await withNamespace('fault-job', async (namespace, kc) => {
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const job = (name: string, annotations: Record<string, string>): k8s.V1Job => ({
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { annotations },
          spec: { restartPolicy: 'Never', containers: [{ name: 'recovery', image: image('recovery') }] },
        },
      },
    });
    await batch.createNamespacedJob({ namespace, body: job('failing', podFaultAnnotations({ kind: 'job-failed' })) });
    await batch.createNamespacedJob({ namespace, body: job('healthy', {}) });
    // Not owned by a Job: the fault does not apply, so it keeps running.
    await runningPod(kc, namespace, 'bare', peerPodSpec, podFaultAnnotations({ kind: 'job-failed' }));

    const jobs = `/apis/batch/v1/namespaces/${namespace}/jobs`;
    const hasCondition = (j: k8s.V1Job, type: string): boolean =>
      j.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
    const failed = await watchUntil<k8s.V1Job>(
      kc,
      jobs,
      { fieldSelector: 'metadata.name=failing' },
      (j) => hasCondition(j, 'Failed') || hasCondition(j, 'Complete'),
    );
    assert.ok(hasCondition(failed, 'Failed'), JSON.stringify(failed.status));
    assert.equal(failed.status?.failed, 1);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const [failedPod] = (
      await core.listNamespacedPod({ namespace, labelSelector: 'batch.kubernetes.io/job-name=failing' })
    ).items;
    assert.ok(failedPod, 'the Job created a pod');
    assert.equal(failedPod.status?.phase, 'Failed');
    assert.equal(container(failedPod, 'recovery')?.state?.terminated?.exitCode, 1, 'default exit code');
    assert.equal(container(failedPod, 'recovery')?.state?.terminated?.reason, 'Error', 'default reason');

    const healthy = await watchUntil<k8s.V1Job>(
      kc,
      jobs,
      { fieldSelector: 'metadata.name=healthy' },
      (j) => hasCondition(j, 'Failed') || hasCondition(j, 'Complete'),
    );
    assert.ok(hasCondition(healthy, 'Complete'), JSON.stringify(healthy.status));

    const bare = await core.readNamespacedPod({ namespace, name: 'bare' });
    assert.equal(bare.status?.phase, 'Running', 'a pod not owned by a Job is unaffected');
  });
});

test('fault stage kubelet-gone: a deleted pod stays Terminating until it is force-deleted', async () => {
  await withNamespace('fault-kubelet', async (namespace, kc) => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = `/api/v1/namespaces/${namespace}/pods`;
    await runningPod(kc, namespace, 'victim');
    await runningPod(kc, namespace, 'control');
    await injectPodFault(kc, namespace, 'victim', { kind: 'kubelet-gone' });
    try {
      const { metadata } = await core.readNamespacedPod({ namespace, name: 'control' });
      await core.deleteNamespacedPod({ namespace, name: 'victim' });
      await core.deleteNamespacedPod({ namespace, name: 'control' });
      // KWOK's pod-delete removes a pod without the fault promptly...
      await watchUntil<k8s.V1Pod>(
        kc,
        pods,
        { resourceVersion: metadata!.resourceVersion!, fieldSelector: 'metadata.name=control' },
        (_p, type) => type === 'DELETED',
      );
      // ...but not this one: nothing but a kubelet (or a force delete) finishes its deletion.
      await sleep(3000);
      const stuck = await core.readNamespacedPod({ namespace, name: 'victim' });
      assert.ok(stuck.metadata?.deletionTimestamp, 'the pod is Terminating');
      assert.equal(stuck.status?.phase, 'Running');

      await forceDeletePod(kc, namespace, 'victim');
      assert.ok(await absent(() => core.readNamespacedPod({ namespace, name: 'victim' })), 'force-deleted');
    } finally {
      // A pod left Terminating would keep the namespace from being deleted.
      await forceDeletePod(kc, namespace, 'victim').catch(() => undefined);
    }
  });
});
