import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatefulSetReadiness } from '../../activities/statefulSetReadiness.js';
import { LABEL_MANAGED_BY, MANAGER_NAME } from '../../k8s/symbolNode.js';
import { withNamespace } from '../support/cluster.js';

const tenMinutes = 10 * 60_000;

test('the shared readiness watch resolves when a StatefulSet becomes Ready, and an aborted wait ends at once', async () => {
  await withNamespace('readiness', async (namespace, kc) => {
    const readiness = new StatefulSetReadiness(kc);
    try {
      const labels = { app: 'web', [LABEL_MANAGED_BY]: MANAGER_NAME };
      const progress: string[] = [];
      const ready = readiness.waitUntilReady(namespace, 'web', tenMinutes, {
        onProgress: (sts) => progress.push(String(sts.status?.readyReplicas ?? 0)),
      });
      await kc.makeApiClient(k8s.AppsV1Api).createNamespacedStatefulSet({
        namespace,
        body: {
          metadata: { name: 'web', labels },
          spec: {
            replicas: 1,
            serviceName: 'web',
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] },
            },
          },
        },
      });
      assert.equal(await ready, true);
      assert.ok(progress.length > 0, 'progress was reported along the way');

      // A wait that would last ten minutes (no such StatefulSet) ends as soon as its activity is cancelled,
      // leaving no timer behind: otherwise this test file would not exit until the timeout.
      const abort = new AbortController();
      const abandoned = readiness.waitUntilReady(namespace, 'never', tenMinutes, { signal: abort.signal });
      setTimeout(() => abort.abort(), 100);
      assert.equal(await abandoned, false);
      assert.equal(
        await readiness.waitUntilReady(namespace, 'never', tenMinutes, { signal: AbortSignal.abort() }),
        false,
        'an already aborted signal ends the wait too',
      );
    } finally {
      await readiness.stop();
    }
  });
});
