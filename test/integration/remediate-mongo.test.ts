import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';
import { resultWhenStarted } from '../support/temporal.js';
import { recoveryJobNameOf } from '../support/recoveryJobs.js';

const apiSpec = {
  ...saiPeerSpec,
  role: 'api',
  hostName: 'api.example.org',
  restImage: 'symbolplatform/symbol-rest:2.5.1',
  mongoImage: 'mongo:7.0.16',
} as const;

test('MongoDB down under a running server on an API node: ordered recovery with MongoDB up, then the node restarts in order', async () => {
  await withNamespace('mongo', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube, client }) => {
      const created = await createSymbolNode(kc, namespace, 'kappa', apiSpec);
      await waitForCondition(kc, namespace, 'kappa', 'Ready', 'True', 90_000);
      const jobSeen = watchUntil<k8s.V1Job>(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, {}, () => true, 90_000);

      await injectPodFault(kc, namespace, 'kappa-0', {
        kind: 'crash-loop',
        container: 'mongo',
        exitCode: 100,
        restartInterval: '1s',
      });
      const degraded = await waitForCondition(kc, namespace, 'kappa', 'Degraded', 'True');
      assert.match(conditionOf(degraded, 'Degraded')?.message ?? '', /mongo/i);

      const job = await jobSeen;
      const spec = job.spec!.template.spec!;
      // MongoDB is a native sidecar that starts (and must pass its startup probe) before recovery runs.
      assert.deepEqual(
        spec.initContainers?.map((c) => [c.name, c.restartPolicy ?? 'Never']),
        [
          ['mongo', 'Always'],
          ['mongo-init', 'Never'],
        ],
      );
      assert.equal(spec.initContainers?.[0]?.image, apiSpec.mongoImage);
      assert.deepEqual(
        spec.containers.map((c) => c.name),
        ['recovery'],
      );
      assert.match(spec.containers[0]!.command!.join(' '), /catapult\.recovery \/userconfig/);

      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'kappa', uid: created.metadata!.uid! });
      const outcome = await resultWhenStarted<RemediationOutcome>(client, `${lifecycleId}/remediate/1`, 90_000);
      const jobName = await recoveryJobNameOf(client, `${lifecycleId}/remediate/1`);
      assert.deepEqual(outcome, { outcome: 'Recovered', jobs: [jobName] });
      const ready = await waitForCondition(kc, namespace, 'kappa', 'Ready', 'True');
      assert.equal(conditionOf(ready, 'Degraded')?.status, 'False');
      // The restarted pod starts MongoDB, the server and the broker in that order, then REST.
      const pod = await kube.core.readNamespacedPod({ namespace, name: 'kappa-0' });
      const order = pod.spec?.initContainers
        ?.map((c) => c.name)
        .filter((n) => ['mongo', 'recovery', 'server', 'broker'].includes(n));
      assert.deepEqual(order, ['mongo', 'recovery', 'server', 'broker']);
      const reasons = (await nodeEvents(kc, namespace, 'kappa')).map((e) => e.reason);
      assert.ok(reasons.includes('RemediationStarted') && reasons.includes('Recovered'), reasons.join(', '));
    });
  });
});
