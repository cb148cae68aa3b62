import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { unpullableImage } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { conditionOf, createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

test('an image that cannot be pulled is reported with the image to roll back to, and never restarted in a loop; a fixed spec recovers', async () => {
  await withNamespace('imagepull', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube, client }) => {
      const created = await createSymbolNode(kc, namespace, 'eta', saiPeerSpec);
      await waitForCondition(kc, namespace, 'eta', 'Ready', 'True');
      const setImage = (image: string) =>
        kc
          .makeApiClient(k8s.CustomObjectsApi)
          .patchNamespacedCustomObject(
            { group: GROUP, version: VERSION, plural: PLURAL, namespace, name: 'eta', body: { spec: { image } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );

      await setImage(unpullableImage);
      const degraded = await watchUntil<SymbolNode & k8s.KubernetesObject>(
        kc,
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
        { fieldSelector: 'metadata.name=eta' },
        (node) => conditionOf(node, 'Degraded')?.reason === 'ImagePullBackOff',
        60_000,
      );
      const message = conditionOf(degraded, 'Degraded')?.message ?? '';
      assert.match(message, /registry\.invalid/, 'names the image that cannot be pulled');
      assert.ok(message.includes(saiPeerSpec.image), `names the last good image to roll back to: ${message}`);
      assert.equal(conditionOf(degraded, 'Ready')?.status, 'False');

      // No remediation, no restart loop: the pod stays as it is.
      const pod = await kube.core.readNamespacedPod({ namespace, name: 'eta-0' });
      await sleep(5000);
      const later = await kube.core.readNamespacedPod({ namespace, name: 'eta-0' });
      assert.equal(later.metadata?.uid, pod.metadata?.uid, 'the pod was not replaced');
      assert.equal((await kube.batch.listNamespacedJob({ namespace })).items.length, 0, 'no recovery Job');
      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'eta', uid: created.metadata!.uid! });
      await assert.rejects(client.workflow.getHandle(`${lifecycleId}/remediate/1`).describe(), WorkflowNotFoundError);

      // Rolling back does not wait for the stuck provisioning: it is superseded.
      await setImage(saiPeerSpec.image);
      const ready = await watchUntil<SymbolNode & k8s.KubernetesObject>(
        kc,
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
        { fieldSelector: 'metadata.name=eta' },
        (node) => conditionOf(node, 'Ready')?.status === 'True' && node.status?.observedGeneration === 3,
        60_000,
      );
      assert.equal(conditionOf(ready, 'Degraded')?.status, 'False');
    });
  });
});
