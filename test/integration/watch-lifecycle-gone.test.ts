import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lifecycleStateQuery, nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { conditionOf, createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';
import { eventually, newTaskQueue, withWatchOperators } from '../support/watchOperator.js';

test('a pod report that finds the lifecycle gone starts it again instead of being dropped, and the new run records the problem', async () => {
  await withNamespace('gone', async (namespace, kc) => {
    // Both resyncs are kept out of the way: only the report itself can bring the lifecycle back.
    const options = { namespace, taskQueue: newTaskQueue(), resyncMs: 3_600_000, podResyncMs: 3_600_000 };
    await withWatchOperators([options], async ([operator]) => {
      const { client } = operator!;
      const created = await createSymbolNode(kc, namespace, 'nu', saiPeerSpec);
      await waitForCondition(kc, namespace, 'nu', 'Ready', 'True');
      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'nu', uid: created.metadata!.uid! });
      const handle = client.workflow.getHandle(lifecycleId);
      const terminatedRun = (await handle.describe()).runId;
      await handle.terminate('test: a lifecycle that ended');

      await injectPodFault(kc, namespace, 'nu-0', {
        kind: 'crash-loop',
        container: 'server',
        exitCode: 253,
        restartInterval: '1s',
      });
      // The report finds no lifecycle: the watcher starts one, and reports again.
      const rerun = await eventually(async () => {
        const description = await client.workflow.getHandle(lifecycleId).describe();
        return description.runId !== terminatedRun && description.status.name === 'RUNNING' ? description : undefined;
      }, 'a new run of the lifecycle');
      assert.notEqual(rerun.runId, terminatedRun);
      const degraded = await waitForCondition(kc, namespace, 'nu', 'Degraded', 'True');
      assert.equal(conditionOf(degraded, 'Degraded')?.reason, 'CrashLoopBackOff');
      const state = await client.workflow.getHandle(lifecycleId).query(lifecycleStateQuery);
      assert.equal(state.podHealth?.problem?.reason, 'CrashLoopBackOff', 'the new run has the report');
    });
  });
});
