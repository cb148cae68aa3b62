import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretValue } from '../../activities/apply.js';
import { ensureNodeIdentityFor } from '../../activities/nodeIdentity.js';
import { asParsedNode, KnownNodes, readSymbolNodeFrom } from '../../activities/symbolNodes.js';
import { makeKubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { buildCertificatesSecret, buildIdentitySecret, type CertificateFiles } from '../../k8s/objects/index.js';
import type { ParsedSymbolNode } from '../../k8s/symbolNode.js';
import {
  certificateDirectoryFiles,
  createCertificateSet,
  PrivateKeySecret,
  verifyCatapultChain,
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
