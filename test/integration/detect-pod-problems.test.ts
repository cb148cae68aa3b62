import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

test('a crash-looping node pod is recorded on its SymbolNode (Degraded, Ready=False, Warning Event) and cleared when the pod is healthy again', async () => {
  await withNamespace('detect', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube }) => {
      await createSymbolNode(kc, namespace, 'zeta', saiPeerSpec);
      await waitForCondition(kc, namespace, 'zeta', 'Ready', 'True');

      // catapult exits -3 (253) when a stale server.lock remains.
      await injectPodFault(kc, namespace, 'zeta-0', {
        kind: 'crash-loop',
        container: 'server',
        exitCode: 253,
        restartInterval: '1s',
      });
      const degraded = await waitForCondition(kc, namespace, 'zeta', 'Degraded', 'True');
      const condition = conditionOf(degraded, 'Degraded');
      assert.equal(condition?.reason, 'CrashLoopBackOff', `reason ${condition?.reason}: ${condition?.message}`);
      assert.match(condition?.message ?? '', /server\.lock/, 'the message names the stale lock');
      assert.match(condition?.message ?? '', /253/);
      assert.equal(conditionOf(degraded, 'Ready')?.status, 'False');
      assert.equal(degraded.status?.phase, 'Degraded');
      const warnings = (await nodeEvents(kc, namespace, 'zeta')).filter((e) => e.type === 'Warning');
      assert.ok(
        warnings.some((e) => e.reason === 'CrashLoopBackOff' && e.message?.includes('zeta-0')),
        JSON.stringify(warnings.map((e) => [e.reason, e.message])),
      );

      // A new pod (what remediation will do after recovery) clears the record.
      await kube.core.deleteNamespacedPod({ namespace, name: 'zeta-0', gracePeriodSeconds: 0 });
      const healthy = await waitForCondition(kc, namespace, 'zeta', 'Degraded', 'False');
      assert.equal(conditionOf(healthy, 'Degraded')?.reason, 'Healthy');
      const ready = await waitForCondition(kc, namespace, 'zeta', 'Ready', 'True');
      assert.equal(ready.status?.phase, 'Running');
      const pod = await kube.core.readNamespacedPod({ namespace, name: 'zeta-0' });
      assert.equal(pod.metadata?.annotations?.['fault.stack.symbol.nodeoperator.io/inject'], undefined, 'a fresh pod');
    });
  });
});
