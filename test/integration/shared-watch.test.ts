import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperatorWatches } from '../../activities/sharedWatch.js';
import { isRolledOutAndReady } from '../../activities/workloads.js';
import { LABEL_MANAGED_BY, MANAGER_NAME } from '../../k8s/symbolNode.js';
import { withNamespace } from '../support/cluster.js';

const tenMinutes = 10 * 60_000;
const labels = { app: 'web', [LABEL_MANAGED_BY]: MANAGER_NAME };

test('shared watches answer a wait when a StatefulSet becomes Ready, when a Job appears and when it is deleted; an aborted wait ends at once', async () => {
  await withNamespace('watches', async (namespace, kc) => {
    const watches = new OperatorWatches(kc);
    try {
      const changes: string[] = [];
      const ready = watches.statefulSets.waitFor(
        namespace,
        'web',
        (sts) => (isRolledOutAndReady(sts) ? 'ready' : undefined),
        { timeoutMs: tenMinutes, onChange: (sts) => changes.push(String(sts?.status?.readyReplicas ?? 0)) },
      );
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
      assert.equal(await ready, 'ready');
      assert.ok(changes.length > 0, 'every change was seen along the way');

      // A Job is seen once created, and its deletion ends a wait for its end.
      const batch = kc.makeApiClient(k8s.BatchV1Api);
      const seen = watches.jobs.waitFor(namespace, 'recovery', (job) => job, { timeoutMs: tenMinutes });
      await batch.createNamespacedJob({
        namespace,
        body: {
          metadata: { name: 'recovery', labels },
          spec: {
            suspend: true,
            template: {
              metadata: { labels },
              spec: { restartPolicy: 'Never', containers: [{ name: 'recovery', image: 'registry.example/web:1' }] },
            },
          },
        },
      });
      assert.equal((await seen)?.metadata?.name, 'recovery');
      const gone = watches.jobs.waitFor(namespace, 'recovery', (job) => (job ? undefined : 'gone'), {
        timeoutMs: tenMinutes,
      });
      await batch.deleteNamespacedJob({ namespace, name: 'recovery', propagationPolicy: 'Background' });
      assert.equal(await gone, 'gone');

      // A wait that would last ten minutes (no such Job) ends as soon as it is aborted, leaving no timer behind:
      // otherwise this test file would not exit until the timeout.
      const abort = new AbortController();
      const abandoned = watches.jobs.waitFor(namespace, 'never', (job) => job, {
        timeoutMs: tenMinutes,
        signal: abort.signal,
      });
      setTimeout(() => abort.abort(), 100);
      assert.equal(await abandoned, undefined);
      assert.equal(
        await watches.jobs.waitFor(namespace, 'never', (job) => job, {
          timeoutMs: tenMinutes,
          signal: AbortSignal.abort(),
        }),
        undefined,
        'an already aborted signal ends the wait too',
      );
    } finally {
      await watches.stop();
    }
  });
});
