import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as activities from '../fixtures/smokeActivities.js';
import { configMapRoundTrip } from '../fixtures/smokeWorkflows.js';
import { withNamespace } from '../support/cluster.js';
import { withTemporalWorker } from '../support/temporal.js';

test('a workflow on the real Temporal server runs an activity that writes and reads the apiserver', async () => {
  await withNamespace('smoke-temporal', async (namespace, kc) => {
    const workflowsPath = fileURLToPath(new URL('../fixtures/smokeWorkflows.ts', import.meta.url));
    const result = await withTemporalWorker({ workflowsPath, activities }, async ({ client, taskQueue }) => {
      const handle = await client.start(configMapRoundTrip, {
        taskQueue,
        workflowId: `smoke-${namespace}`,
        args: [namespace, 'greeting', 'hello symbol'],
      });
      const output = await handle.result();
      const history = await handle.fetchHistory();
      return { output, events: history.events ?? [] };
    });

    assert.equal(result.output.value, 'hello symbol');
    const stored = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ namespace, name: 'greeting' });
    assert.equal(stored.metadata?.uid, result.output.uid, 'the object the activity saw is the one in the cluster');
    assert.ok(
      result.events.some((e) => e.activityTaskCompletedEventAttributes),
      'the server recorded the activity completion in the workflow history',
    );
  });
});
