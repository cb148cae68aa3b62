import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import type { provisionNode } from '../../workflows/provisionNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { spawnOperatorProcess, startOperator } from '../support/operator.js';
import { createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

test('an operator killed mid-provisioning is replaced and the node is provisioned once, with the same keys', async () => {
  await withNamespace('crash', async (namespace, kc) => {
    const taskQueue = `crash-${randomBytes(4).toString('hex')}`;
    const first = await spawnOperatorProcess(namespace, taskQueue);
    try {
      const created = await createSymbolNode(kc, namespace, 'gamma', saiPeerSpec);

      // The first key material written is the moment to crash: provisioning has begun, not finished.
      const identityAtCrash = await watchUntil<k8s.V1Secret>(
        kc,
        `/api/v1/namespaces/${namespace}/secrets`,
        {},
        (s) => s.metadata?.name === 'gamma-identity',
        30_000,
      );
      await first.kill();

      const second = await startOperator({ namespace, taskQueue });
      try {
        const node = await waitForCondition(kc, namespace, 'gamma', 'Ready', 'True', 90_000);
        const identity = await second.kube.core.readNamespacedSecret({ namespace, name: 'gamma-identity' });
        assert.deepEqual(identity.data, identityAtCrash.data, 'the main account key did not change');
        assert.equal(identity.metadata?.uid, identityAtCrash.metadata?.uid, 'the identity Secret was never recreated');
        assert.ok(node.status?.mainPublicKey);

        const workflowId = nodeLifecycleWorkflowId({ namespace, name: 'gamma', uid: created.metadata!.uid! });
        const outcome = await second.client.workflow
          .getHandle<typeof provisionNode>(`${workflowId}/provision/1`)
          .result();
        assert.deepEqual(outcome, { outcome: 'Ready', image: saiPeerSpec.image });
        const runs = [];
        for await (const execution of second.client.workflow.list({
          query: `WorkflowId = '${workflowId}/provision/1'`,
        }))
          runs.push(execution);
        assert.equal(runs.length, 1, 'generation 1 was provisioned by exactly one workflow run');
        assert.equal(runs[0]?.status.name, 'COMPLETED');
        const provisioned = (await nodeEvents(kc, namespace, 'gamma')).filter((e) => e.reason === 'Provisioned');
        assert.equal(provisioned.length, 1);
        assert.equal(provisioned[0]?.count ?? 1, 1, 'Provisioned was reported once');
      } finally {
        await second.stop();
      }
    } finally {
      await first.kill();
    }
  });
});
