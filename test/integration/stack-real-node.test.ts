import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { before, describe, test } from 'node:test';
import { simulatedNodeNames } from '../../stack/cluster.js';
import { containerPid } from '../../stack/runtime/containerd.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import {
  createLocalVolume,
  ensureProbeImage,
  onRealNode,
  realNodeName,
  realNodeSkipReason,
  realNodeStorageClass,
} from '../support/realNode.js';

async function createPod(kc: k8s.KubeConfig, namespace: string, name: string, spec: k8s.V1PodSpec): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({ namespace, body: { metadata: { name }, spec } });
}

function podWhere(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  predicate: (pod: k8s.V1Pod) => boolean,
): Promise<k8s.V1Pod> {
  return watchUntil<k8s.V1Pod>(
    kc,
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (pod) => pod.metadata?.name === name && predicate(pod),
    90_000,
  );
}

const isReady = (pod: k8s.V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** What a TCP server at host:port sends before it closes the connection. */
function readGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host, port, timeout: 5000 });
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('end', () => resolve(received));
    socket.on('timeout', () => socket.destroy(new Error(`no answer from ${host}:${port}`)));
    socket.on('error', reject);
  });
}

// A machine without the real node fails here rather than passing these tests as skipped.
describe('the stack real node', { concurrency: true }, () => {
  before(() => assert.equal(realNodeSkipReason(), undefined, `the stack has a real node (${realNodeSkipReason()})`));
  test('a pod placed on the real node runs a real process that the host reaches on its pod IP', async () => {
    const image = await ensureProbeImage();
    await withNamespace('real-run', async (namespace, kc) => {
      await createPod(
        kc,
        namespace,
        'listener',
        onRealNode({
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'probe',
              image,
              imagePullPolicy: 'Never',
              args: ['listen', '7900'],
              // The kubelet itself connects: Ready means the port really answers.
              readinessProbe: { tcpSocket: { port: 7900 }, periodSeconds: 1 },
            },
          ],
        }),
      );
      const pod = await podWhere(kc, namespace, 'listener', isReady);
      assert.equal(pod.spec?.nodeName, realNodeName);

      const containerId = pod.status?.containerStatuses?.[0]?.containerID ?? '';
      assert.match(containerId, /^containerd:\/\/[0-9a-f]{64}$/);
      const pid = await containerPid(containerId.slice('containerd://'.length));
      assert.ok(pid !== undefined && pid > 1, `containerd has no running task for ${containerId}`);
      const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      assert.deepEqual(commandLine.slice(0, 3), ['/probe', 'listen', '7900']);

      assert.equal(await readGreeting(pod.status?.podIP ?? '', 7900), 'ok\n');
      // kube-apiserver → kubelet (client certificate) → the container's log file.
      const log = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPodLog({ name: 'listener', namespace });
      assert.equal(log.trim(), 'probe listening on 7900');
    });
  });

  test('a container that exits 3 reports exit code 3', async () => {
    const image = await ensureProbeImage();
    await withNamespace('real-exit', async (namespace, kc) => {
      await createPod(
        kc,
        namespace,
        'exits',
        onRealNode({
          restartPolicy: 'Never',
          containers: [{ name: 'probe', image, imagePullPolicy: 'Never', args: ['exit', '3'] }],
        }),
      );
      const pod = await podWhere(kc, namespace, 'exits', (p) => p.status?.phase === 'Failed');
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(terminated?.exitCode, 3);
      assert.equal(terminated?.reason, 'Error');
    });
  });

  test('a pod that does not tolerate the real node stays on a simulated node', async () => {
    await withNamespace('real-kwok', async (namespace, kc) => {
      await createPod(kc, namespace, 'simulated', { containers: [{ name: 'app', image: 'registry.example/app:1' }] });
      const pod = await podWhere(kc, namespace, 'simulated', (p) => p.status?.phase === 'Running');
      assert.ok(simulatedNodeNames.includes(pod.spec?.nodeName ?? ''), `scheduled on ${pod.spec?.nodeName}`);
    });
  });

  test('a local volume on the real node binds to a claim and uid 1000 writes to it', async () => {
    const image = await ensureProbeImage();
    await withNamespace('real-volume', async (namespace, kc) => {
      const volume = await createLocalVolume(kc);
      try {
        await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPersistentVolumeClaim({
          namespace,
          body: {
            metadata: { name: 'data' },
            spec: {
              storageClassName: realNodeStorageClass,
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '1Gi' } },
            },
          },
        });
        await createPod(
          kc,
          namespace,
          'writer',
          onRealNode({
            restartPolicy: 'Never',
            securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
            containers: [
              {
                name: 'probe',
                image,
                imagePullPolicy: 'Never',
                args: ['write', '/data/hello'],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          }),
        );
        const pod = await podWhere(kc, namespace, 'writer', (p) =>
          ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
        );
        assert.equal(pod.status?.phase, 'Succeeded', JSON.stringify(pod.status?.containerStatuses?.[0]?.state));
        const file = `${volume.path}/hello`;
        assert.equal(await readFile(file, 'utf8'), 'written by probe\n');
        assert.equal((await stat(file)).uid, 1000);
      } finally {
        await volume.remove();
      }
    });
  });
});
