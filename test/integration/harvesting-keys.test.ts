/**
 * Harvesting keys are made once and then only read. A harvesting Secret someone broke (a key deleted from it) is
 * an error on the SymbolNode — Ready=False with reason InvalidHarvestingKey and a Warning Event, naming what is
 * missing and no key — and the Secret is left as it is: new keys would silently end delegated harvesting. Put back,
 * the same keys are used again.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { harvestingKeysFromProperties } from '../../symbol/keys.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec } from '../support/symbolNodes.js';

const FILE = 'config-harvesting.properties';
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

test('a broken harvesting Secret is reported as InvalidHarvestingKey and never replaced; restored, its keys are kept', async () => {
  await withNamespace('harvest', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube }) => {
      const name = 'harvester';
      const secretName = `${name}-harvesting`;
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      const bumpSpec = (friendlyName: string) =>
        custom.patchNamespacedCustomObject(
          { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { spec: { friendlyName } } },
          mergePatch,
        );
      const until = (what: string, predicate: (node: SymbolNode) => boolean) =>
        watchUntil<SymbolNode & k8s.KubernetesObject>(
          kc,
          `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
          { fieldSelector: `metadata.name=${name}` },
          predicate,
          90_000,
        ).catch((error: unknown) => assert.fail(`${what}: ${error instanceof Error ? error.message : String(error)}`));
      const readyAt = (generation: number) => (node: SymbolNode) =>
        conditionOf(node, 'Ready')?.status === 'True' && node.status?.observedGeneration === generation;
      const readSecret = () => kube.core.readNamespacedSecret({ namespace, name: secretName });
      const text = (secret: k8s.V1Secret) => Buffer.from(secret.data?.[FILE] ?? '', 'base64').toString('utf8');

      await createSymbolNode(kc, namespace, name, { ...saiPeerSpec, harvester: true });
      await until('provisioned and Ready', readyAt(1));
      const original = text(await readSecret());
      const keys = harvestingKeysFromProperties(original);

      // Someone deletes the VRF key from the Secret; the next generation must not make a new one.
      const partial = original.replace(/^harvesterVrfPrivateKey = .*$/m, 'harvesterVrfPrivateKey = ');
      assert.notEqual(partial, original);
      const broken = await kube.core.patchNamespacedSecret(
        { namespace, name: secretName, body: { data: { [FILE]: Buffer.from(partial).toString('base64') } } },
        mergePatch,
      );
      await bumpSpec('second generation');
      const failed = await until(
        'Ready=False with reason InvalidHarvestingKey',
        (node) => conditionOf(node, 'Ready')?.reason === 'InvalidHarvestingKey',
      );
      const ready = conditionOf(failed, 'Ready')!;
      assert.equal(ready.status, 'False');
      assert.match(
        ready.message,
        new RegExp(
          `harvesting Secret ${secretName}: config-harvesting\\.properties has no \\[harvesting\\] harvesterVrfPrivateKey`,
        ),
      );
      const events = await nodeEvents(kc, namespace, name);
      const warning = events.find((event) => event.reason === 'InvalidHarvestingKey');
      assert.ok(warning, `a Warning Event; got ${JSON.stringify(events.map((e) => [e.type, e.reason]))}`);
      assert.equal(warning.type, 'Warning');
      for (const message of [ready.message, warning.message ?? '', JSON.stringify(failed.status)]) {
        assert.ok(!message.toUpperCase().includes(keys.signingKey.revealHex()), 'the signing key is not shown');
        assert.ok(!message.toUpperCase().includes(keys.vrfKey.revealHex()), 'the VRF key is not shown');
      }
      const after = await readSecret();
      assert.equal(after.metadata?.resourceVersion, broken.metadata?.resourceVersion, 'the Secret was not written');
      assert.equal(text(after), partial);

      // Put back as it was, then a new generation: the node runs again with the same keys.
      await kube.core.patchNamespacedSecret(
        { namespace, name: secretName, body: { data: { [FILE]: Buffer.from(original).toString('base64') } } },
        mergePatch,
      );
      await bumpSpec('third generation');
      await until('Ready again with the restored keys', readyAt(3));
      const restored = harvestingKeysFromProperties(text(await readSecret()));
      assert.ok(restored.signingKey.equals(keys.signingKey), 'same signing key');
      assert.ok(restored.vrfKey.equals(keys.vrfKey), 'same VRF key');
    });
  });
});
