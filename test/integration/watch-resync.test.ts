import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { lifecycleStateQuery, nodeLifecycleWorkflowId, podHealthSignal } from '../../workflows/nodeLifecycle.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault, unpullableImage } from '../support/faults.js';
import { conditionOf, createSymbolNode, getSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';
import { eventually, newTaskQueue, withWatchOperators } from '../support/watchOperator.js';

test('a lifecycle terminated by hand is started again by the watcher on resync, and the node is managed again: a later crash is remediated', async () => {
  await withNamespace('resync', async (namespace, kc) => {
    // The pod resync (which would restart the lifecycle too, through a report) is kept out of the way.
    const options = { namespace, taskQueue: newTaskQueue(), resyncMs: 2000, podResyncMs: 3_600_000 };
    await withWatchOperators([options], async ([operator]) => {
      const { client } = operator!;
      const created = await createSymbolNode(kc, namespace, 'kappa', saiPeerSpec);
      await waitForCondition(kc, namespace, 'kappa', 'Ready', 'True');
      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'kappa', uid: created.metadata!.uid! });
      const handle = client.workflow.getHandle(lifecycleId);
      const terminatedRun = (await handle.describe()).runId;
      await handle.terminate('test: a lifecycle ended by hand');

      // Nothing about the node changes: only the resync can bring its lifecycle back.
      const rerun = await eventually(async () => {
        const description = await client.workflow.getHandle(lifecycleId).describe();
        return description.runId !== terminatedRun && description.status.name === 'RUNNING' ? description : undefined;
      }, 'a new run of the lifecycle');
      assert.notEqual(rerun.runId, terminatedRun);
      await eventually(async () => {
        const state = await client.workflow.getHandle(lifecycleId).query(lifecycleStateQuery);
        return state.lastOutcome?.outcome === 'Ready' ? state : undefined;
      }, 'the new run provisioned the node (idempotently) to Ready');

      await injectPodFault(kc, namespace, 'kappa-0', {
        kind: 'crash-loop',
        container: 'server',
        exitCode: 253,
        restartInterval: '1s',
      });
      const remediation = await eventually<WorkflowExecutionDescription>(
        () => client.workflow.getHandle(`${lifecycleId}/remediate/1`).describe(),
        'a remediation of the crash',
      );
      const outcome = (await client.workflow
        .getHandle(remediation.workflowId, remediation.runId)
        .result()) as RemediationOutcome;
      assert.equal(outcome.outcome, 'Recovered', JSON.stringify(outcome));
    });
  });
});

test('a pod report the lifecycle recorded wrong is corrected on resync: the watcher compares the pod with the record and reports it again', async () => {
  await withNamespace('resync', async (namespace, kc) => {
    const options = { namespace, taskQueue: newTaskQueue(), resyncMs: 3_600_000, podResyncMs: 2000 };
    await withWatchOperators([options], async ([operator]) => {
      const { client } = operator!;
      const created = await createSymbolNode(kc, namespace, 'lambda', saiPeerSpec);
      await waitForCondition(kc, namespace, 'lambda', 'Ready', 'True');
      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'lambda', uid: created.metadata!.uid! });
      await kc.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name: 'lambda',
          body: { spec: { image: unpullableImage } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
      const until = (predicate: (node: SymbolNode) => boolean) =>
        watchUntil<SymbolNode & k8s.KubernetesObject>(
          kc,
          path,
          { fieldSelector: 'metadata.name=lambda' },
          predicate,
          90_000,
        );
      await until((node) => conditionOf(node, 'Degraded')?.reason === 'ImagePullBackOff');

      // A report that went wrong (as a lost or stale one would leave it): the pod is said to have no problem.
      // Watched from before it, so that both the wrong record and its correction are seen, in order.
      const pod = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedPod({ namespace, name: 'lambda-0' });
      const before = await getSymbolNode(kc, namespace, 'lambda');
      let recordedWrong = false;
      const corrected = watchUntil<SymbolNode & k8s.KubernetesObject>(
        kc,
        path,
        { fieldSelector: 'metadata.name=lambda', resourceVersion: before.metadata!.resourceVersion! },
        (node) => {
          if (conditionOf(node, 'Degraded')?.status === 'False') recordedWrong = true;
          return recordedWrong && conditionOf(node, 'Degraded')?.reason === 'ImagePullBackOff';
        },
        90_000,
      );
      await client.workflow
        .getHandle(lifecycleId)
        .signal(podHealthSignal, { pod: 'lambda-0', podUid: pod.metadata!.uid!, podReady: false });

      // The pod does not change: only the resync can tell the lifecycle again.
      const node = await corrected;
      assert.ok(recordedWrong, 'the wrong report was recorded first');
      assert.match(conditionOf(node, 'Degraded')?.message ?? '', /registry\.invalid/);
      const state = await client.workflow.getHandle(lifecycleId).query(lifecycleStateQuery);
      assert.equal(state.podHealth?.problem?.kind, 'ImagePull');
      assert.equal(state.podHealth?.podUid, pod.metadata!.uid);
    });
  });
});
