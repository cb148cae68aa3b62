import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretValue } from '../../activities/apply.js';
import { harvestingKeysFor, storeHarvestingSecret } from '../../activities/harvestingKeys.js';
import { ensureNodeIdentityFor } from '../../activities/nodeIdentity.js';
import { asParsedNode, KnownNodes, readSymbolNodeFrom } from '../../activities/symbolNodes.js';
import { makeKubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { buildCertificatesSecret, buildIdentitySecret, type CertificateFiles } from '../../k8s/objects/index.js';
import type { ParsedSymbolNode } from '../../k8s/symbolNode.js';
import {
  certificateDirectoryFiles,
  createCertificateSet,
  harvestingKeysFromProperties,
  PrivateKeySecret,
  verifyCatapultChain,
  type HarvestingKeys,
} from '../../symbol/index.js';
import { withNamespace } from '../support/cluster.js';
import { createSymbolNode, saiPeerSpec } from '../support/symbolNodes.js';

test('identity Secrets left by an interrupted first run are completed: certificates for another main key are re-signed, keeping the node key', async () => {
  await withNamespace('identity', async (namespace, kc) => {
    const kube = makeKubeClients(kc);
    // No operator runs here: on a fresh cluster nothing else may have installed the CRD yet.
    await installCustomResourceDefinitions(kube);
    const parsed = async (name: string): Promise<ParsedSymbolNode> => {
      const created = await createSymbolNode(kc, namespace, name, saiPeerSpec);
      const ref = { namespace, name, uid: created.metadata!.uid! };
      return asParsedNode(ref, (await readSymbolNodeFrom(kube, new KnownNodes(), ref)).spec);
    };
    const certificatesOf = async (name: string) =>
      kube.core.readNamespacedSecret({ namespace, name: `${name}-certificates` });
    const chainHolds = async (name: string, mainPublicKey: string, nodePublicKey: string) =>
      verifyCatapultChain(secretValue(await certificatesOf(name), 'node.full.crt.pem')!, {
        expectedCaPublicKey: mainPublicKey,
        expectedNodePublicKey: nodePublicKey,
      });

    // Certificates stored without the identity Secret: signed by a main key that was never kept.
    const orphan = await parsed('orphan');
    const nodeKey = PrivateKeySecret.generate();
    const strayCertificates = await createCertificateSet({
      mainKey: PrivateKeySecret.generate(),
      nodeKey,
      friendlyName: 'orphan',
      host: saiPeerSpec.hostName,
    });
    await kube.core.createNamespacedSecret({
      namespace,
      body: buildCertificatesSecret(
        orphan,
        Object.fromEntries(certificateDirectoryFiles(strayCertificates)) as unknown as CertificateFiles,
      ),
    });
    const identity = await ensureNodeIdentityFor(kube, orphan);
    assert.equal(identity.nodePublicKey, nodeKey.publicKey, 'the node key is kept');
    const storedMain = PrivateKeySecret.fromHex(
      secretValue(await kube.core.readNamespacedSecret({ namespace, name: 'orphan-identity' }), 'privateKey')!,
    );
    assert.equal(identity.mainPublicKey, storedMain.publicKey);
    await chainHolds('orphan', storedMain.publicKey, nodeKey.publicKey);

    // Run again: nothing changes.
    const version = (await certificatesOf('orphan')).metadata?.resourceVersion;
    assert.deepEqual(await ensureNodeIdentityFor(kube, orphan), identity);
    assert.equal((await certificatesOf('orphan')).metadata?.resourceVersion, version, 'no write when all is in place');

    // The identity Secret stored without certificates: they are made for the stored key.
    const keyOnly = await parsed('key-only');
    const mainKey = PrivateKeySecret.generate();
    await kube.core.createNamespacedSecret({ namespace, body: buildIdentitySecret(keyOnly, mainKey.revealHex()) });
    const completed = await ensureNodeIdentityFor(kube, keyOnly);
    assert.equal(completed.mainPublicKey, mainKey.publicKey, 'the stored main key is kept');
    await chainHolds('key-only', mainKey.publicKey, completed.nodePublicKey);
  });
});

test('harvesting keys: of two runs creating the Secret at once the first wins and the other is retried; a Secret changed since its keys were read is not written', async () => {
  await withNamespace('harvest-race', async (namespace, kc) => {
    const kube = makeKubeClients(kc);
    await installCustomResourceDefinitions(kube);
    const created = await createSymbolNode(kc, namespace, 'racer', { ...saiPeerSpec, harvester: true });
    const ref = { namespace, name: 'racer', uid: created.metadata!.uid! };
    const node = asParsedNode(ref, (await readSymbolNodeFrom(kube, new KnownNodes(), ref)).spec);
    const properties = (keys: HarvestingKeys) =>
      `[harvesting]\nharvesterSigningPrivateKey = ${keys.signingKey.revealHex()}\n` +
      `harvesterVrfPrivateKey = ${keys.vrfKey.revealHex()}\n`;
    const stored = async () =>
      harvestingKeysFromProperties(
        secretValue(
          await kube.core.readNamespacedSecret({ namespace, name: 'racer-harvesting' }),
          'config-harvesting.properties',
        )!,
      );

    // Both runs found no Secret and made their own keys.
    const [first, second] = await Promise.all([harvestingKeysFor(kube, node), harvestingKeysFor(kube, node)]);
    assert.equal(first.stored, undefined);
    await storeHarvestingSecret(kube, node, first, properties(first));
    await assert.rejects(storeHarvestingSecret(kube, node, second, properties(second)), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'HarvestingSecretRace');
      assert.equal(error.nonRetryable, false);
      return true;
    });
    assert.ok((await stored()).signingKey.equals(first.signingKey), "the first run's keys are kept");

    // The retried run reads them; meanwhile someone changes the Secret: its write is refused (409), not applied.
    const retried = await harvestingKeysFor(kube, node);
    assert.ok(retried.vrfKey.equals(first.vrfKey));
    const other = { signingKey: PrivateKeySecret.generate(), vrfKey: PrivateKeySecret.generate() };
    await kube.core.patchNamespacedSecret(
      {
        namespace,
        name: 'racer-harvesting',
        body: { stringData: { 'config-harvesting.properties': properties(other) } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await assert.rejects(
      storeHarvestingSecret(kube, node, retried, `${properties(retried)}maxUnlockedAccounts = 5\n`),
      (error: unknown) => error instanceof k8s.ApiException && error.code === 409,
    );
    assert.ok((await stored()).signingKey.equals(other.signingKey), 'the newer Secret stays');
  });
});
