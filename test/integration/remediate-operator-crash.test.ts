import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { spawnOperatorProcess, startOperator } from '../support/operator.js';
import { createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';
import { recoveryJobNameOf } from '../support/recoveryJobs.js';

test('an operator killed mid-remediation is replaced; its restarted watchers see the fault again, and the node is recovered once', async () => {
  await withNamespace('remcrash', async (namespace, kc) => {
    const taskQueue = `remcrash-${randomBytes(4).toString('hex')}`;
    const first = await spawnOperatorProcess(namespace, taskQueue);
    try {
      const created = await createSymbolNode(kc, namespace, 'lambda', saiPeerSpec);
      await waitForCondition(kc, namespace, 'lambda', 'Ready', 'True');

      await injectPodFault(kc, namespace, 'lambda-0', {
        kind: 'crash-loop',
        container: 'server',
        exitCode: 137,
        reason: 'OOMKilled',
        restartInterval: '1s',
      });
      // The recovery Job is the moment to crash: the node is stopped, recovery is under way, nothing is finished.
      await watchUntil<k8s.V1Job>(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, {}, () => true, 60_000);
      await first.kill();

      const second = await startOperator({ namespace, taskQueue });
      try {
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'lambda', uid: created.metadata!.uid! });
        const outcome = (await second.client.workflow
          .getHandle(`${lifecycleId}/remediate/1`)
          .result()) as RemediationOutcome;
        const job = await recoveryJobNameOf(second.client, `${lifecycleId}/remediate/1`);
        assert.deepEqual(outcome, { outcome: 'Recovered', jobs: [job] });
        await waitForCondition(kc, namespace, 'lambda', 'Ready', 'True');
        // Give the restarted watchers time to report everything they list.
        await sleep(3000);
        await assert.rejects(
          second.client.workflow.getHandle(`${lifecycleId}/remediate/2`).describe(),
          WorkflowNotFoundError,
        );
        const jobs = await second.kube.batch.listNamespacedJob({ namespace });
        assert.deepEqual(
          jobs.items.map((j) => j.metadata?.name),
          [job],
        );
        const events = await nodeEvents(kc, namespace, 'lambda');
        const count = (reason: string) =>
          events.filter((e) => e.reason === reason).reduce((n, e) => n + (e.count ?? 1), 0);
        assert.equal(count('RemediationStarted'), 1);
        assert.equal(count('Recovered'), 1);
      } finally {
        await second.stop();
      }
    } finally {
      await first.kill();
    }
  });
});
