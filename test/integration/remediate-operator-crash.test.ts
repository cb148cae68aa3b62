import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WorkflowNotFoundError } from '@temporalio/client';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { startOperator } from '../support/operator.js';
import { repoRoot } from '../support/paths.js';
import { createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const operatorProcess = fileURLToPath(new URL('../fixtures/operatorProcess.ts', import.meta.url));

test('an operator killed mid-remediation is replaced; its restarted watchers see the fault again, and the node is recovered once', async () => {
  await withNamespace('remcrash', async (namespace, kc) => {
    const taskQueue = `remcrash-${randomBytes(4).toString('hex')}`;
    const first = spawn(process.execPath, ['--import', 'tsx', operatorProcess], {
      cwd: repoRoot,
      env: { ...process.env, SNO_TEST_NAMESPACE: namespace, SNO_TEST_TASK_QUEUE: taskQueue },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(first, 'exit');
    try {
      await new Promise<void>((resolve, reject) => {
        first.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
        first.once('exit', (code) => reject(new Error(`operator process exited early (${code})`)));
      });
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
      first.kill('SIGKILL');
      await exited;

      const second = await startOperator({ namespace, taskQueue });
      try {
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'lambda', uid: created.metadata!.uid! });
        const outcome = (await second.client.workflow
          .getHandle(`${lifecycleId}/remediate/1`)
          .result()) as RemediationOutcome;
        assert.deepEqual(outcome, { outcome: 'Recovered', jobs: ['lambda-recovery-1-1'] });
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
          ['lambda-recovery-1-1'],
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
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
    }
  });
});
