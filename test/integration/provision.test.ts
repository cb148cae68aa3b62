import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ANNOTATION_CONFIG_HASH } from '../../k8s/symbolNode.js';
import { PropertiesDocument, readCertificate, verifyCatapultChain } from '../../symbol/index.js';
import { nodeLifecycleWorkflowId, type nodeLifecycle } from '../../workflows/nodeLifecycle.js';
import { absent, withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const run = promisify(execFile);
const decode = (secret: k8s.V1Secret, key: string): string =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

/** openssl is the independent oracle for "the certificates are valid X.509" (tests only). */
async function opensslVerify(caPem: string, nodePem: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sno-certs-'));
  try {
    await writeFile(join(dir, 'ca.pem'), caPem);
    await writeFile(join(dir, 'node.pem'), nodePem);
    const { stdout } = await run('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'node.pem')]);
    return stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a sai peer SymbolNode is provisioned: keys, certificates, configuration, StatefulSet, Service, Ready status and Events', async () => {
  await withNamespace('provision', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube, client }) => {
      const created = await createSymbolNode(kc, namespace, 'alpha', saiPeerSpec);
      const node = await waitForCondition(kc, namespace, 'alpha', 'Ready', 'True');

      assert.equal(conditionOf(node, 'Provisioned')?.status, 'True');
      assert.equal(conditionOf(node, 'Ready')?.observedGeneration, 1);
      assert.equal(node.status?.observedGeneration, 1);
      assert.equal(node.status?.phase, 'Running');
      assert.equal(node.status?.network, 'sai');
      assert.equal(node.status?.image, saiPeerSpec.image);

      // Identity: the main key lives in a Secret; status shows only public data that matches it.
      const identity = await kube.core.readNamespacedSecret({ namespace, name: 'alpha-identity' });
      assert.match(decode(identity, 'privateKey'), /^[0-9A-F]{64}$/);
      const certificates = await kube.core.readNamespacedSecret({ namespace, name: 'alpha-certificates' });
      assert.deepEqual(Object.keys(certificates.data ?? {}).sort(), [
        'ca.crt.pem',
        'ca.pubkey.pem',
        'node.crt.pem',
        'node.full.crt.pem',
        'node.key.pem',
      ]);
      const chain = await verifyCatapultChain(decode(certificates, 'node.full.crt.pem'), {
        expectedCaPublicKey: node.status?.mainPublicKey,
        expectedNodePublicKey: node.status?.nodePublicKey,
      });
      assert.ok(chain);
      assert.match(
        await opensslVerify(decode(certificates, 'ca.crt.pem'), decode(certificates, 'node.crt.pem')),
        /: OK$/,
      );
      const nodeCertificate = await readCertificate(decode(certificates, 'node.crt.pem'));
      const days = (nodeCertificate.notAfter.getTime() - nodeCertificate.notBefore.getTime()) / 86_400_000;
      assert.ok(days >= 374 && days <= 376, `node certificate valid ~375 days, got ${days}`);

      // Configuration: node-specific values in a ConfigMap, no private key anywhere in it.
      const resources = await kube.core.readNamespacedConfigMap({ namespace, name: 'alpha-resources' });
      const nodeProperties = PropertiesDocument.parse(resources.data?.['config-node.properties'] ?? '');
      assert.equal(nodeProperties.get('localnode', 'host'), 'peer.example.org');
      assert.equal(nodeProperties.get('localnode', 'friendlyName'), 'test peer');
      assert.equal(nodeProperties.get('localnode', 'roles'), 'Peer');
      assert.ok(resources.data?.['peers-p2p.json']);
      assert.ok(
        !('config-harvesting.properties' in (resources.data ?? {})) ||
          !/PrivateKey = [0-9A-F]{64}/.test(resources.data?.['config-harvesting.properties'] ?? ''),
      );
      const mainKey = decode(identity, 'privateKey');
      for (const content of Object.values(resources.data ?? {}))
        assert.ok(!content.includes(mainKey), 'the main key never reaches a ConfigMap');

      // Workload: one replica, owned by the SymbolNode, rolled by a config hash, pod Ready on a bound volume.
      const sts = await kube.apps.readNamespacedStatefulSet({ namespace, name: 'alpha' });
      assert.equal(sts.spec?.replicas, 1);
      assert.equal(sts.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid);
      assert.match(sts.spec?.template.metadata?.annotations?.[ANNOTATION_CONFIG_HASH] ?? '', /^[0-9a-f]{64}$/);
      const server =
        sts.spec?.template.spec?.containers.find((c) => c.name === 'server') ??
        sts.spec?.template.spec?.initContainers?.find((c) => c.name === 'server');
      assert.equal(server?.image, saiPeerSpec.image);
      const pod = await kube.core.readNamespacedPod({ namespace, name: 'alpha-0' });
      assert.equal(pod.status?.phase, 'Running');
      const pvc = await kube.core.readNamespacedPersistentVolumeClaim({ namespace, name: 'data-alpha-0' });
      assert.equal(pvc.status?.phase, 'Bound');
      assert.equal(pvc.spec?.resources?.requests?.storage, '10Gi');
      const service = await kube.core.readNamespacedService({ namespace, name: 'alpha' });
      assert.ok(service.spec?.ports?.some((p) => p.port === 7900));

      // Visible to people: Events on the SymbolNode, a lifecycle workflow with search attributes.
      const reasons = (await nodeEvents(kc, namespace, 'alpha')).map((e) => e.reason);
      assert.ok(reasons.includes('Provisioning') && reasons.includes('Provisioned'), `events: ${reasons.join(', ')}`);
      const workflowId = nodeLifecycleWorkflowId({ namespace, name: 'alpha', uid: created.metadata!.uid! });
      const description = await client.workflow.getHandle(workflowId).describe();
      assert.equal(description.status.name, 'RUNNING');
      const provision = await client.workflow.getHandle(`${workflowId}/provision/1`).describe();
      assert.equal(provision.status.name, 'COMPLETED');
      assert.deepEqual(provision.searchAttributes.NodeAction, ['provision']);
      assert.deepEqual(provision.searchAttributes.SymbolNode, [`${namespace}/alpha`]);
    });
  });
});

test('deleting a SymbolNode removes what it owns and ends its lifecycle workflow', async () => {
  await withNamespace('provision-delete', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube, client }) => {
      const created = await createSymbolNode(kc, namespace, 'beta', saiPeerSpec);
      await waitForCondition(kc, namespace, 'beta', 'Ready', 'True');
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await custom.deleteNamespacedCustomObject({
        group: 'symbol.nodeoperator.io',
        version: 'v1alpha1',
        plural: 'symbolnodes',
        namespace,
        name: 'beta',
        propagationPolicy: 'Foreground',
      });

      const deadline = Date.now() + 30_000;
      for (;;) {
        const results = await Promise.all([
          absent(() => kube.apps.readNamespacedStatefulSet({ namespace, name: 'beta' })),
          absent(() => kube.core.readNamespacedConfigMap({ namespace, name: 'beta-resources' })),
          absent(() => kube.core.readNamespacedService({ namespace, name: 'beta' })),
          absent(() => kube.core.readNamespacedSecret({ namespace, name: 'beta-certificates' })),
          absent(() => kube.core.readNamespacedSecret({ namespace, name: 'beta-identity' })),
        ]);
        if (results.every(Boolean)) break;
        if (Date.now() > deadline)
          assert.fail(
            `not cleaned up (StatefulSet, ConfigMap, Service, certificates, identity): ${results.join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
      const handle = client.workflow.getHandle<typeof nodeLifecycle>(
        nodeLifecycleWorkflowId({ namespace, name: 'beta', uid: created.metadata!.uid! }),
      );
      const state = await handle.result();
      assert.equal(state.deleted, true);
    });
  });
});
