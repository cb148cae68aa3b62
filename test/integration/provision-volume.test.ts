import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

test('a larger volumeSize grows the data claim; the StatefulSet keeps its claim template, the node its keys', async () => {
  await withNamespace('volume', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube }) => {
      await createSymbolNode(kc, namespace, 'iota', { ...saiPeerSpec, volumeSize: '10Gi' });
      const first = await waitForCondition(kc, namespace, 'iota', 'Ready', 'True');

      await kc.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name: 'iota',
          body: { spec: { volumeSize: '20Gi' } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      const second = await watchUntil<SymbolNode & k8s.KubernetesObject>(
        kc,
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
        { fieldSelector: 'metadata.name=iota' },
        (node) => {
          const ready = conditionOf(node, 'Ready');
          return ready?.status === 'True' && ready.observedGeneration === 2;
        },
        60_000,
      );
      assert.equal(conditionOf(second, 'Degraded')?.status, 'False');

      const claim = await kube.core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data-iota-0' });
      assert.equal(claim.spec?.resources?.requests?.storage, '20Gi', 'the claim was grown');
      const statefulSet = await kube.apps.readNamespacedStatefulSet({ namespace, name: 'iota' });
      assert.equal(
        statefulSet.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage,
        '10Gi',
        'claim templates are immutable: the stored one is kept',
      );
      assert.equal(second.status?.nodePublicKey, first.status?.nodePublicKey);
      assert.equal(second.status?.mainPublicKey, first.status?.mainPublicKey);
    });
  });
});
