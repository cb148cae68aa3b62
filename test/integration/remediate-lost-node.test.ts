import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { simulatedNode } from '../../stack/cluster.js';
import { withNamespace } from '../support/cluster.js';
import { injectPodFault, setNodeNotReady } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { resultWhenStarted } from '../support/temporal.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';
import { recoveryJobNameOf } from '../support/recoveryJobs.js';

const taintKey = 'test.symbol.nodeoperator.io/pool';

/** Two simulated Kubernetes nodes only this test's pods may use (a taint keeps other tests' pods away). */
async function withOwnNodes<T>(kc: k8s.KubeConfig, pool: string, body: (names: string[]) => Promise<T>): Promise<T> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const names = [`${pool}-a`, `${pool}-b`];
  for (const name of names) {
    await core.createNode({
      body: simulatedNode(name, { pool }, [{ key: taintKey, value: pool, effect: 'NoSchedule' }]),
    });
  }
  try {
    return await body(names);
  } finally {
    for (const name of names) await core.deleteNode({ name }).catch(() => undefined);
  }
}

test('a pod on a lost Kubernetes node is force-deleted after the grace period, recovery runs, and the node comes back elsewhere', async () => {
  await withNamespace('lostnode', async (namespace, kc) => {
    await withOwnNodes(kc, namespace, async () => {
      await withOperator({ namespace, lostNodeGraceMs: 3000 }, async ({ kube, client }) => {
        const created = await createSymbolNode(kc, namespace, 'iota', {
          ...saiPeerSpec,
          nodeSelector: { pool: namespace },
          tolerations: [{ key: taintKey, operator: 'Equal', value: namespace, effect: 'NoSchedule' }],
        });
        await waitForCondition(kc, namespace, 'iota', 'Ready', 'True', 90_000);
        const before = await kube.core.readNamespacedPod({ namespace, name: 'iota-0' });
        const lostNode = before.spec!.nodeName!;
        assert.ok(lostNode.startsWith(namespace), `scheduled on the test's own nodes: ${lostNode}`);

        // The node's kubelet is gone: the pod can no longer be stopped gracefully, and the node turns NotReady.
        await injectPodFault(kc, namespace, 'iota-0', { kind: 'kubelet-gone' });
        await setNodeNotReady(kc, lostNode, true);

        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'iota', uid: created.metadata!.uid! });
        const outcome = await resultWhenStarted<RemediationOutcome>(client, `${lifecycleId}/remediate/1`, 90_000);
        const jobName = await recoveryJobNameOf(client, `${lifecycleId}/remediate/1`);
        assert.deepEqual(outcome, { outcome: 'Recovered', jobs: [jobName] });

        const after = await kube.core.readNamespacedPod({ namespace, name: 'iota-0' });
        assert.notEqual(after.metadata?.uid, before.metadata?.uid, 'a replacement pod');
        assert.notEqual(after.spec?.nodeName, lostNode, 'not on the lost node');
        const job = await kube.batch.readNamespacedJob({ namespace, name: jobName });
        assert.deepEqual(
          job.spec?.template.spec?.nodeSelector,
          { pool: namespace },
          'recovery runs where the volume can go',
        );
        const ready = await waitForCondition(kc, namespace, 'iota', 'Ready', 'True');
        assert.equal(conditionOf(ready, 'Degraded')?.status, 'False');
        const events = await nodeEvents(kc, namespace, 'iota');
        const lost = events.find((e) => e.reason === 'NodeLost');
        assert.ok(lost?.message?.includes(lostNode), JSON.stringify(events.map((e) => [e.reason, e.message])));
        const forced = events.find((e) => e.reason === 'PodForceDeleted');
        assert.ok(forced?.message?.includes(lostNode), 'the forced deletion is on record');
      });
    });
  });
});
