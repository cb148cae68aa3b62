import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { withNamespace } from '../support/cluster.js';
import { startOperator } from '../support/operator.js';
import { createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

test('two operator replicas (two watchers, two workers) provision each generation once', async () => {
  await withNamespace('replicas', async (namespace, kc) => {
    const taskQueue = `replicas-${randomBytes(4).toString('hex')}`;
    const [first, second] = await Promise.all([
      startOperator({ namespace, taskQueue }),
      startOperator({ namespace, taskQueue }),
    ]);
    try {
      const nodes = await Promise.all(
        ['delta', 'epsilon'].map((name) => createSymbolNode(kc, namespace, name, saiPeerSpec)),
      );
      for (const node of nodes) {
        const name = node.metadata!.name!;
        await waitForCondition(kc, namespace, name, 'Ready', 'True');
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name, uid: node.metadata!.uid! });
        await first.client.workflow.getHandle(`${lifecycleId}/provision/1`).result();
        const runs: string[] = [];
        for await (const execution of first.client.workflow.list({ query: `WorkflowId STARTS_WITH '${lifecycleId}'` }))
          runs.push(execution.workflowId);
        assert.deepEqual(
          runs.sort(),
          [lifecycleId, `${lifecycleId}/provision/1`],
          `${name}: one lifecycle, one provisioning`,
        );
        const provisioned = (await nodeEvents(kc, namespace, name)).filter((e) => e.reason === 'Provisioned');
        assert.equal(provisioned.length, 1);
        assert.equal(provisioned[0]?.count ?? 1, 1);
      }
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
