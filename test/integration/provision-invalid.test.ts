/**
 * Bad input gives a clear error and loses nothing; the operator keeps running.
 *
 * - What the CRD can see is refused by the API server itself (422 naming the field), on create and on update
 *   (transition rules), and the stored object stays as it was.
 * - What only the operator can see (a missing identity Secret, a network package whose checksum does not match)
 *   ends in Ready=False / Degraded=True with a precise reason, and a Warning Event; other nodes are unaffected, and
 *   fixing the input makes the node Ready without losing the key material made before the failure.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { GROUP, PLURAL, VERSION, type SymbolNode, type SymbolNodeSpecInput } from '../../k8s/symbolNode.js';
import { PrivateKeySecret } from '../../symbol/index.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { absent, withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { saiPackageZip } from '../support/paths.js';
import {
  conditionOf,
  createSymbolNode,
  getSymbolNode,
  nodeEvents,
  saiPeerSpec,
  waitForCondition,
} from '../support/symbolNodes.js';

const api = { group: GROUP, version: VERSION, plural: PLURAL };
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

async function patchSpec(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<SymbolNode> {
  return (await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .patchNamespacedCustomObject({ ...api, namespace, name, body: { spec } }, mergePatch)) as SymbolNode;
}

/** Runs a request that must be refused with 422 Unprocessable Entity and returns the API server's message. */
async function rejected(what: string, request: () => Promise<unknown>): Promise<string> {
  try {
    await request();
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
    assert.equal(error.code, 422, `${what}: expected 422, got ${error.code}: ${body}`);
    return (JSON.parse(body) as { message: string }).message;
  }
  return assert.fail(`${what}: the API server accepted it`);
}

const decode = (secret: k8s.V1Secret, key: string): string =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

test('the API server refuses what the CRD can catch, on create and on update, with a 422 naming the field; the stored node is kept', async () => {
  await withNamespace('invalid-crd', async (namespace, kc) => {
    await withOperator({ namespace }, async () => {
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      const valid = saiPeerSpec as Record<string, unknown>;
      const apiImages = { restImage: 'symbolplatform/symbol-rest:2.5.1', mongoImage: 'mongo:7.0.16' };
      const creates: Array<{ name: string; spec: Record<string, unknown>; expect: RegExp[] }> = [
        {
          name: 'bad-network',
          spec: { ...valid, network: 'testnet' },
          expect: [/spec\.network/, /Unsupported value: "testnet"/],
        },
        {
          name: 'bad-host-dots',
          spec: { ...valid, hostName: 'a..b' },
          expect: [/spec\.hostName: Invalid value: "a\.\.b"/],
        },
        {
          name: 'bad-host-shell',
          spec: { ...valid, hostName: 'x;rm -rf /' },
          expect: [/spec\.hostName: Invalid value: "x;rm -rf \/"/],
        },
        {
          name: 'bad-host-newline',
          spec: { ...valid, hostName: 'peer.example.org\nevil' },
          expect: [/spec\.hostName: Invalid value: "peer\.example\.org\\nevil"/],
        },
        // Passes the pattern (digits and dots), caught by the CEL rule: not an IP, and all-numeric is no DNS name.
        {
          name: 'bad-host-ip',
          spec: { ...valid, hostName: '10.0.0.256' },
          expect: [/spec\.hostName/, /must be a DNS name \(RFC 1123\) or an IP address/],
        },
        {
          name: 'bad-size-unit',
          spec: { ...valid, volumeSize: '10Zi' },
          expect: [/spec\.volumeSize: Invalid value: "10Zi"/],
        },
        {
          name: 'bad-size-negative',
          spec: { ...valid, volumeSize: '-5Gi' },
          expect: [/spec\.volumeSize: Invalid value: "-5Gi"/],
        },
        {
          name: 'bad-size-small',
          spec: { ...valid, volumeSize: '512Mi' },
          expect: [/spec\.volumeSize/, /at least 1Gi/],
        },
        {
          name: 'bad-api-harvester',
          spec: { ...valid, role: 'api', harvester: true, ...apiImages },
          expect: [/spec: Forbidden/, /role api is a pure API node and cannot harvest or vote/],
        },
        {
          name: 'bad-api-images',
          spec: { ...valid, role: 'dual' },
          expect: [/spec/, /restImage and mongoImage are required/],
        },
        {
          name: 'bad-custom',
          spec: { ...valid, network: 'custom' },
          expect: [/spec\.networkPackage/, /networkPackage is required when network is custom/],
        },
      ];
      for (const c of creates) {
        const message = await rejected(`create ${c.name}`, () => createSymbolNode(kc, namespace, c.name, c.spec));
        for (const pattern of c.expect) assert.match(message, pattern, `create ${c.name}`);
      }

      // A valid node; then the changes the transition rules forbid. Each refusal leaves it exactly as it was.
      const created = await createSymbolNode(kc, namespace, 'keeper', { ...saiPeerSpec, friendlyName: 'keeper' });
      const current = (await custom.getNamespacedCustomObject({ ...api, namespace, name: 'keeper' })) as SymbolNode &
        k8s.KubernetesObject;
      const networkChange = await rejected('replace network', () =>
        custom.replaceNamespacedCustomObject({
          ...api,
          namespace,
          name: 'keeper',
          body: { ...current, spec: { ...current.spec, network: 'mainnet' } },
        }),
      );
      assert.match(networkChange, /spec\.network/);
      assert.match(networkChange, /network is immutable/);
      const shrink = await rejected('shrink volumeSize', () =>
        patchSpec(kc, namespace, 'keeper', { volumeSize: '5Gi' }),
      );
      assert.match(shrink, /spec\.volumeSize/);
      assert.match(shrink, /volumeSize may only grow/);
      const toApi = await rejected('peer to api', () =>
        patchSpec(kc, namespace, 'keeper', { role: 'api', ...apiImages }),
      );
      assert.match(toApi, /spec\.role/);
      assert.match(toApi, /role can only change between api and dual/);
      const addIdentity = await rejected('add identitySecretRef', () =>
        patchSpec(kc, namespace, 'keeper', { identitySecretRef: { name: 'other-key' } }),
      );
      assert.match(addIdentity, /spec\.identitySecretRef/);
      assert.match(addIdentity, /identitySecretRef cannot be added, removed or changed/);

      // Nothing was stored for the refused creates, and the kept node is unchanged and still provisioned.
      const list = (await custom.listNamespacedCustomObject({ ...api, namespace })) as { items: SymbolNode[] };
      assert.deepEqual(
        list.items.map((n) => n.metadata?.name),
        ['keeper'],
      );
      const node = await waitForCondition(kc, namespace, 'keeper', 'Ready', 'True');
      assert.equal(node.metadata?.generation, 1);
      assert.equal(node.metadata?.uid, created.metadata?.uid);
      assert.deepEqual(node.spec, created.spec);
      assert.equal(node.status?.observedGeneration, 1);
      assert.equal(node.status?.network, 'sai');
    });
  });
});

test('operator-level failures are reported precisely, leave other nodes alone, and recover when the input is fixed', async () => {
  await withNamespace('invalid-op', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube, client }) => {
      const zip = await readFile(saiPackageZip);
      const rightSha256 = createHash('sha256').update(zip).digest('hex');
      const wrongSha256 = createHash('sha256').update('not the sai package').digest('hex');
      await kube.core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'sai-package', namespace }, binaryData: { 'package.zip': zip.toString('base64') } },
      });
      const customSpec = (sha256: string): SymbolNodeSpecInput => ({
        ...saiPeerSpec,
        network: 'custom',
        networkPackage: { configMapRef: { name: 'sai-package' }, sha256 },
        // A custom network has no pinned peers: without these the node would be told it has none (NoKnownPeers).
        peers: {
          p2p: [{ publicKey: '7'.repeat(64), host: 'peer-1.custom.example.org', name: 'custom-peer-1' }],
        },
      });

      const [valid, noIdentity, badSum, goodSum] = await Promise.all([
        createSymbolNode(kc, namespace, 'inv-valid', saiPeerSpec),
        createSymbolNode(kc, namespace, 'inv-no-identity', {
          ...saiPeerSpec,
          identitySecretRef: { name: 'inv-main-key' },
        }),
        createSymbolNode(kc, namespace, 'inv-bad-sum', customSpec(wrongSha256)),
        createSymbolNode(kc, namespace, 'inv-good-sum', customSpec(rightSha256)),
      ]);
      const [failedIdentity, failedSum] = await Promise.all([
        waitForCondition(kc, namespace, 'inv-no-identity', 'Ready', 'False'),
        waitForCondition(kc, namespace, 'inv-bad-sum', 'Ready', 'False'),
        waitForCondition(kc, namespace, 'inv-valid', 'Ready', 'True'),
        waitForCondition(kc, namespace, 'inv-good-sum', 'Ready', 'True'),
      ]);

      const expectFailure = async (node: SymbolNode, reason: string, message: RegExp): Promise<void> => {
        const name = node.metadata!.name!;
        for (const type of ['Ready', 'Degraded'] as const) {
          const condition = conditionOf(node, type);
          assert.equal(condition?.status, type === 'Ready' ? 'False' : 'True', `${name} ${type}`);
          assert.equal(condition?.reason, reason, `${name} ${type} reason`);
          assert.match(condition?.message ?? '', message, `${name} ${type} message`);
          assert.equal(condition?.observedGeneration, 1);
        }
        assert.equal(conditionOf(node, 'Provisioned'), undefined, `${name}: nothing was provisioned`);
        assert.equal(node.status?.phase, 'Failed', `${name} phase: only a person can fix this`);
        assert.equal(node.status?.observedGeneration, 1);
        const warnings = (await nodeEvents(kc, namespace, name)).filter((e) => e.type === 'Warning');
        assert.ok(
          warnings.some((e) => e.reason === reason && message.test(e.message ?? '')),
          `${name}: a Warning Event ${reason}; got ${JSON.stringify(warnings.map((e) => [e.reason, e.message]))}`,
        );
        assert.ok(
          await absent(() => kube.apps.readNamespacedStatefulSet({ namespace, name })),
          `${name}: no StatefulSet`,
        );
        // (Its configuration may already exist: it does not depend on the identity and is built alongside.)
      };

      // (a) identitySecretRef names a Secret that does not exist: no key is invented in its place.
      await expectFailure(failedIdentity, 'IdentitySecretNotFound', /^identity Secret inv-main-key does not exist$/);
      assert.ok(
        await absent(() => kube.core.readNamespacedSecret({ namespace, name: 'inv-no-identity-identity' })),
        'no generated identity',
      );
      assert.ok(
        await absent(() => kube.core.readNamespacedSecret({ namespace, name: 'inv-no-identity-certificates' })),
        'no certificates',
      );
      // (b) the package in the ConfigMap does not match the pinned sha256: the message names both digests.
      await expectFailure(
        failedSum,
        'ChecksumMismatch',
        new RegExp(
          `^ChecksumMismatch: sha256 of ConfigMap ${namespace}/sai-package is ${rightSha256}, expected ${wrongSha256}$`,
        ),
      );
      const badSumIdentity = await kube.core.readNamespacedSecret({ namespace, name: 'inv-bad-sum-identity' });
      const badSumKey = decode(badSumIdentity, 'privateKey');
      assert.match(badSumKey, /^[0-9A-F]{64}$/);

      // (c) the same package with the right sha256 provisions, from the ConfigMap.
      const good = await getSymbolNode(kc, namespace, 'inv-good-sum');
      assert.equal(good.status?.network, 'custom');
      assert.equal(conditionOf(good, 'Degraded')?.status, 'False');
      const goodSts = await kube.apps.readNamespacedStatefulSet({ namespace, name: 'inv-good-sum' });
      assert.ok(
        goodSts.spec?.template.spec?.volumes?.some((v) => v.configMap?.name === 'sai-package'),
        'seed-init reads the package from the ConfigMap',
      );
      assert.ok(await kube.core.readNamespacedConfigMap({ namespace, name: 'inv-good-sum-resources' }));

      // The failures stopped nothing: the lifecycle workflows still run and wait for the next generation.
      for (const node of [noIdentity, badSum]) {
        const description = await client.workflow
          .getHandle(nodeLifecycleWorkflowId({ namespace, name: node.metadata!.name!, uid: node.metadata!.uid! }))
          .describe();
        assert.equal(description.status.name, 'RUNNING', `${node.metadata!.name!} lifecycle workflow`);
      }

      // Fix both. Creating the missing Secret is enough: the lifecycle workflow retries such failures by
      // itself (every 2 s here, from 1 min in production). The checksum is fixed by editing the spec.
      const mainKey = PrivateKeySecret.generate();
      await kube.core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'inv-main-key', namespace }, stringData: { privateKey: mainKey.revealHex() } },
      });
      await patchSpec(kc, namespace, 'inv-bad-sum', { networkPackage: { sha256: rightSha256 } });
      const [fixedIdentity, fixedSum] = await Promise.all([
        waitForCondition(kc, namespace, 'inv-no-identity', 'Ready', 'True'),
        waitForCondition(kc, namespace, 'inv-bad-sum', 'Ready', 'True'),
      ]);
      for (const [node, generation] of [
        [fixedIdentity, 1],
        [fixedSum, 2],
      ] as const) {
        const name = node.metadata!.name!;
        assert.equal(node.metadata?.generation, generation, name);
        assert.equal(node.status?.observedGeneration, generation, name);
        assert.equal(conditionOf(node, 'Ready')?.observedGeneration, generation, name);
        assert.equal(conditionOf(node, 'Degraded')?.status, 'False', name);
        assert.equal(node.status?.phase, 'Running', name);
        const reasons = (await nodeEvents(kc, namespace, name)).map((e) => e.reason);
        assert.ok(reasons.includes('Provisioned'), `${name} events: ${reasons.join(', ')}`);
      }
      // The node runs with the key the user supplied, and nothing else was generated for it.
      assert.equal(fixedIdentity.status?.mainPublicKey, mainKey.publicKey);
      assert.ok(await absent(() => kube.core.readNamespacedSecret({ namespace, name: 'inv-no-identity-identity' })));
      // The key generated before the checksum failure is the one the node runs with: nothing was lost or replaced.
      const afterFix = await kube.core.readNamespacedSecret({ namespace, name: 'inv-bad-sum-identity' });
      assert.equal(decode(afterFix, 'privateKey'), badSumKey);
      assert.equal(afterFix.metadata?.uid, badSumIdentity.metadata?.uid);
      assert.equal(fixedSum.status?.mainPublicKey, PrivateKeySecret.fromHex(badSumKey).publicKey);

      // The healthy nodes were never touched by their neighbours' failures and fixes.
      for (const created of [valid, goodSum]) {
        const name = created.metadata!.name!;
        const still = await getSymbolNode(kc, namespace, name);
        assert.equal(still.metadata?.uid, created.metadata?.uid, name);
        assert.equal(still.metadata?.generation, 1, name);
        assert.equal(still.status?.observedGeneration, 1, name);
        assert.equal(conditionOf(still, 'Ready')?.status, 'True', name);
        assert.equal(conditionOf(still, 'Degraded')?.status, 'False', name);
        assert.deepEqual(
          (await nodeEvents(kc, namespace, name)).filter((e) => e.type === 'Warning').map((e) => e.reason),
          [],
          name,
        );
      }
    });
  });
});
