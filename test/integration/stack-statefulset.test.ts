import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testKubeConfig, watchUntil, withNamespace } from '../support/cluster.js';

function isReady(pod: k8s.V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

test('a StatefulSet with a volumeClaimTemplate gets a bound PVC and a Running, Ready pod', async () => {
  await withNamespace('smoke-sts', async (namespace, kc) => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          serviceName: 'web',
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'web', image: 'registry.example/web:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      },
    });

    const pod = await watchUntil<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (p) => p.metadata?.name === 'web-0' && isReady(p),
      60_000,
    );
    assert.ok(pod.spec?.nodeName, 'the scheduler placed the pod on a simulated node');
    assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet');

    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: 'data-web-0', namespace });
    assert.equal(pvc.status?.phase, 'Bound');
    assert.equal(pvc.spec?.storageClassName, 'kwok-volume', 'the default StorageClass was applied by admission');
    const pv = await core.readPersistentVolume({ name: pvc.spec?.volumeName ?? '' });
    assert.equal(pv.spec?.claimRef?.name, 'data-web-0');

    const sts = await watchUntil<k8s.V1StatefulSet>(
      kc,
      `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
      {},
      (s) => (s.status?.readyReplicas ?? 0) === 1,
    );
    assert.equal(sts.status?.currentReplicas, 1);
  });
});

test('the cluster has a Ready simulated node and a default StorageClass', async () => {
  const kc = testKubeConfig();
  const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
  assert.ok(nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')));
  const classes = await kc.makeApiClient(k8s.StorageV1Api).listStorageClass();
  assert.ok(
    classes.items.some((c) => c.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true'),
  );
});
