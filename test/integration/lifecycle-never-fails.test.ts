import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { Client } from '@temporalio/client';
import { simulatedNode } from '../../stack/cluster.js';
import { outageQuery } from '../../workflows/durableStep.js';
import { nodeLifecycleWorkflowId, resumeSignal } from '../../workflows/nodeLifecycle.js';
import type { ProvisionOutcome } from '../../workflows/provisionNode.js';
import { ApiProxy } from '../support/apiProxy.js';
import { withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { namespacedOperatorKubeConfig } from '../support/rbac.js';
import { resultWhenStarted } from '../support/temporal.js';
import { createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const taintKey = 'test.symbol.nodeoperator.io/pool';

/** Polls until `check` returns a value (no timing is asserted: the deadline only ends a hung test). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await sleep(500);
  }
}

async function eventWith(kc: k8s.KubeConfig, namespace: string, name: string, reason: string, text?: RegExp) {
  return eventually(`Event ${reason}`, async () =>
    (await nodeEvents(kc, namespace, name)).find((e) => e.reason === reason && (!text || text.test(e.message ?? ''))),
  );
}

async function statusOf(client: Client, workflowId: string): Promise<string> {
  return (await client.workflow.getHandle(workflowId).describe()).status.name;
}

test('a provisioning child workflow that is terminated half-way is recorded and run again; the lifecycle lives on', async () => {
  await withNamespace('neverfails', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ client, kube }) => {
      // No Kubernetes node matches yet: provisioning waits for the pod, long enough to be cut off.
      const created = await createSymbolNode(kc, namespace, 'omega', {
        ...saiPeerSpec,
        nodeSelector: { pool: namespace },
        tolerations: [{ key: taintKey, operator: 'Equal', value: namespace, effect: 'NoSchedule' }],
      });
      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'omega', uid: created.metadata!.uid! });
      const provisionId = `${lifecycleId}/provision/1`;
      await eventually('the StatefulSet', () => kube.apps.readNamespacedStatefulSet({ namespace, name: 'omega' }));
      const first = await client.workflow.getHandle(provisionId).describe();
      assert.equal(first.status.name, 'RUNNING');
      await client.workflow.getHandle(provisionId).terminate('test: provisioning cut off half-way');

      const interrupted = await eventWith(kc, namespace, 'omega', 'ProvisioningInterrupted');
      assert.equal(interrupted.type, 'Warning');
      assert.match(interrupted.message ?? '', /provisioning generation 1 ended without an outcome .*trying again/);
      assert.equal(await statusOf(client, lifecycleId), 'RUNNING', 'the lifecycle did not fail with its child');

      // Provisioning runs again (a new run of the same child id) and completes once the pod can be scheduled.
      const second = await eventually('a second provisioning run', async () => {
        const run = await client.workflow.getHandle(provisionId).describe();
        return run.runId !== first.runId ? run : undefined;
      });
      assert.equal(second.status.name, 'RUNNING');
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const nodeName = `${namespace}-node`;
      await core.createNode({
        body: simulatedNode(nodeName, { pool: namespace }, [{ key: taintKey, value: namespace, effect: 'NoSchedule' }]),
      });
      try {
        await waitForCondition(kc, namespace, 'omega', 'Ready', 'True', 120_000);
        const outcome = (await client.workflow.getHandle(provisionId).result()) as ProvisionOutcome;
        assert.equal(outcome.outcome, 'Ready', 'the second run completed the provisioning');
        assert.equal(await statusOf(client, lifecycleId), 'RUNNING');
      } finally {
        await core.deleteNode({ name: nodeName }).catch(() => undefined);
      }
    });
  });
});

test('the Kubernetes API unreachable for longer than every retry of a lifecycle write: the write waits, the lifecycle lives on and says what happened', async () => {
  await withNamespace('neverfails', async (namespace, kc) => {
    const proxy = await ApiProxy.start(kc.getCurrentCluster()!.server);
    try {
      const kubeConfig = proxy.kubeConfig(await namespacedOperatorKubeConfig(kc, namespace));
      await withOperator({ namespace, kubeConfig }, async ({ client }) => {
        const created = await createSymbolNode(kc, namespace, 'sigma', saiPeerSpec);
        await waitForCondition(kc, namespace, 'sigma', 'Ready', 'True', 90_000);
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'sigma', uid: created.metadata!.uid! });
        const lifecycle = client.workflow.getHandle(lifecycleId);
        // Provisioning done (its last Event written too): the lifecycle alone is left to act.
        assert.equal(
          (await resultWhenStarted<ProvisionOutcome>(client, `${lifecycleId}/provision/1`)).outcome,
          'Ready',
        );

        // The API server goes away for this operator; meanwhile a person resumes the node, which the lifecycle
        // records with an Event: that write fails until the API is back.
        await proxy.cut();
        await lifecycle.signal(resumeSignal, { by: 'test' });
        // The outage record appears once the write's own retries (five attempts) are spent: the point where
        // the lifecycle used to fail for good.
        const outage = await eventually('the outage record', async () => lifecycle.query(outageQuery));
        assert.equal(outage.reason, 'KubernetesUnavailable');
        assert.equal(outage.step, 'recording the resume');
        assert.match(outage.message, /could not be reached \((ECONNREFUSED|ECONNRESET)\)/);
        assert.equal(await statusOf(client, lifecycleId), 'RUNNING');
        // Tried again after a pause, failed again: still waiting, not failed.
        await eventually('a later failed attempt', async () => {
          const now = await lifecycle.query(outageQuery);
          return now && now.failures >= 3 ? now : undefined;
        });
        assert.equal(await statusOf(client, lifecycleId), 'RUNNING');

        await proxy.restore();
        const report = await eventWith(kc, namespace, 'sigma', 'KubernetesUnavailable');
        assert.equal(report.type, 'Warning');
        assert.match(
          report.message ?? '',
          /^the Kubernetes API was unreachable for \d+ s while recording the resume; resumed/,
        );
        await eventWith(kc, namespace, 'sigma', 'Resumed');
        assert.equal(await lifecycle.query(outageQuery), undefined, 'the outage is over');
        assert.equal(await statusOf(client, lifecycleId), 'RUNNING');
      });
    } finally {
      await proxy.stop();
    }
  });
});
