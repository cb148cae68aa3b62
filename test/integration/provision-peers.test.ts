/**
 * A provisioned node can find its network: the peers-p2p.json / peers-api.json the operator applies hold the
 * expected peers — the pinned sai list when nodewatch cannot be reached, nodewatch's nodes (a stand-in server
 * speaking nodewatch's JSON, test/support/nodewatch.ts), spec.peers when given — and a node with none says so
 * (Provisioned reason NoKnownPeers, Warning Event). Changing the peers rolls the pod (config hash).
 *
 * Also: a node of a preset the operator holds as a local file (the test operator is given sai.zip, as
 * SNO_NETWORK_PACKAGE_SAI would) gets its seed from a ConfigMap the operator publishes, not from the internet.
 *
 * Packages are the shared sai package with only shoestring.ini's `[services] nodewatch` line changed, handed over
 * in ConfigMaps: so nothing here depends on whether the real nodewatch can be reached from this machine.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { zipSync } from 'fflate';

import { networkPackageConfigMapName } from '../../k8s/objects/index.js';
import { ANNOTATION_CONFIG_HASH, GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import {
  formatPeersFile,
  loadNetworkPackageFromZip,
  NETWORK_PACKAGE_PRESETS,
  parseNodewatchNodes,
  peersFromNodewatch,
  PINNED_PEERS,
  type PeerEntry,
} from '../../symbol/index.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { startNodewatchStandIn, standInNodeLists } from '../support/nodewatch.js';
import { withOperator } from '../support/operator.js';
import { saiPackageZip } from '../support/paths.js';
import { closedPort } from '../support/ports.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const saiZip = new Uint8Array(readFileSync(saiPackageZip));

/** The sai package, re-zipped with another nodewatch URL (or none). */
function saiPackageWithNodewatch(url: string | undefined): Uint8Array {
  const pkg = loadNetworkPackageFromZip(saiZip);
  const files: Record<string, Uint8Array> = Object.fromEntries(pkg.files);
  const ini = pkg.text('shoestring.ini').replace(/^nodewatch = .*$/m, url === undefined ? '' : `nodewatch = ${url}`);
  files['shoestring.ini'] = new TextEncoder().encode(ini);
  return zipSync(files);
}

const knownPeers = (file: string | undefined): unknown[] =>
  (JSON.parse(file ?? '{}') as { knownPeers?: unknown[] }).knownPeers ?? ['no knownPeers'];

const dual = { role: 'dual', restImage: 'symbolplatform/symbol-rest:2.5.1', mongoImage: 'mongo:7.0.16' } as const;

const specPeers = (host: string) => [
  { publicKey: 'AB'.repeat(32), host, port: 7900, apiPort: 3001, name: 'own seed', roles: 'Peer,Api,Voting' },
];
const asEntries = (peers: ReturnType<typeof specPeers>): PeerEntry[] =>
  peers.map((p) => ({
    publicKey: p.publicKey,
    endpoint: { host: p.host, port: p.port, api_port: p.apiPort },
    metadata: { name: p.name, roles: p.roles },
  }));

test('peer lists: pinned when nodewatch is unreachable, from nodewatch, from spec.peers, NoKnownPeers when none; the seed package from a ConfigMap', async () => {
  const standIn = await startNodewatchStandIn();
  try {
    await withNamespace('peers', async (namespace, kc) => {
      await withOperator({ namespace }, async ({ kube }) => {
        const packages = {
          'pkg-refused': saiPackageWithNodewatch(`http://127.0.0.1:${await closedPort()}/testnet`),
          'pkg-standin': saiPackageWithNodewatch(standIn.url),
          'pkg-none': saiPackageWithNodewatch(undefined),
        };
        for (const [name, zip] of Object.entries(packages)) {
          await kube.core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name }, binaryData: { 'package.zip': Buffer.from(zip).toString('base64') } },
          });
        }
        const fromConfigMap = (name: string) => ({ configMapRef: { name } });

        await Promise.all([
          createSymbolNode(kc, namespace, 'pinned', {
            ...saiPeerSpec,
            ...dual,
            networkPackage: fromConfigMap('pkg-refused'),
          }),
          createSymbolNode(kc, namespace, 'watched', {
            ...saiPeerSpec,
            ...dual,
            network: 'custom',
            networkPackage: fromConfigMap('pkg-standin'),
          }),
          createSymbolNode(kc, namespace, 'given', { ...saiPeerSpec, peers: { p2p: specPeers('seed-1.example.org') } }),
          createSymbolNode(kc, namespace, 'lonely', {
            ...saiPeerSpec,
            network: 'custom',
            networkPackage: fromConfigMap('pkg-none'),
          }),
        ]);
        const provisioned = Object.fromEntries(
          await Promise.all(
            ['pinned', 'watched', 'given', 'lonely'].map(
              async (name) => [name, await waitForCondition(kc, namespace, name, 'Provisioned', 'True')] as const,
            ),
          ),
        );
        const resources = async (name: string) =>
          (await kube.core.readNamespacedConfigMap({ namespace, name: `${name}-resources` })).data ?? {};

        // sai, nodewatch refused: the pinned sai lists, and the condition says where they came from and why
        const pinned = await resources('pinned');
        assert.equal(pinned['peers-p2p.json'], formatPeersFile('p2p', PINNED_PEERS.sai.p2p));
        assert.equal(pinned['peers-api.json'], formatPeersFile('api', PINNED_PEERS.sai.api));
        assert.match(
          conditionOf(provisioned.pinned!, 'Provisioned')?.message ?? '',
          /starting peers: 5 p2p from the operator's pinned sai list, 3 api from the operator's pinned sai list \(nodewatch http:\/\/127\.0\.0\.1:\d+\/testnet failed: .*ECONNREFUSED/,
        );

        // custom network with a nodewatch: its nodes, chosen as shoestring does (20 p2p of 23, all 18 api)
        const lists = standInNodeLists();
        const expected = peersFromNodewatch(
          { peer: parseNodewatchNodes(lists.peer, 'peer'), api: parseNodewatchNodes(lists.api, 'api') },
          { seed: `${namespace}/watched` },
        );
        const watched = await resources('watched');
        assert.equal(watched['peers-p2p.json'], formatPeersFile('p2p', expected.p2p));
        assert.equal(watched['peers-api.json'], formatPeersFile('api', expected.api));
        assert.equal(knownPeers(watched['peers-p2p.json']).length, 20);
        assert.equal(
          conditionOf(provisioned.watched!, 'Provisioned')?.reason,
          'ObjectsApplied',
          conditionOf(provisioned.watched!, 'Provisioned')?.message,
        );

        // spec.peers
        const given = await resources('given');
        assert.equal(given['peers-p2p.json'], formatPeersFile('p2p', asEntries(specPeers('seed-1.example.org'))));
        assert.match(conditionOf(provisioned.given!, 'Provisioned')?.message ?? '', /1 p2p from spec\.peers$/);

        // none: said in the condition and a Warning Event; the file is there, empty
        const lonely = conditionOf(provisioned.lonely!, 'Provisioned');
        assert.equal(lonely?.reason, 'NoKnownPeers');
        assert.match(
          lonely?.message ?? '',
          /peers-p2p\.json lists no peer \(0 p2p from nowhere \(the network package names no nodewatch\)\)/,
        );
        assert.deepEqual(knownPeers((await resources('lonely'))['peers-p2p.json']), []);
        const warnings = (await nodeEvents(kc, namespace, 'lonely')).filter((e) => e.reason === 'NoKnownPeers');
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0]?.type, 'Warning');
        assert.match(warnings[0]?.message ?? '', /spec\.peers/);

        // other peers roll the pod: a new config hash on the pod template
        const hashOf = async () =>
          (await kube.apps.readNamespacedStatefulSet({ namespace, name: 'given' })).spec?.template.metadata
            ?.annotations?.[ANNOTATION_CONFIG_HASH];
        const before = await hashOf();
        await kc.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObject(
          {
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
            name: 'given',
            body: { spec: { peers: { p2p: specPeers('seed-2.example.org') } } },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        await watchUntil<SymbolNode & k8s.KubernetesObject>(
          kc,
          `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
          { fieldSelector: 'metadata.name=given' },
          (node) => conditionOf(node, 'Provisioned')?.observedGeneration === 2,
          60_000,
        );
        assert.equal(
          (await resources('given'))['peers-p2p.json'],
          formatPeersFile('p2p', asEntries(specPeers('seed-2.example.org'))),
        );
        const after = await hashOf();
        assert.ok(before && after && before !== after, `config hash ${before} → ${after}`);

        // the sai preset, held by the operator as a local file: seed-init reads it from a ConfigMap it published
        const statefulSet = await kube.apps.readNamespacedStatefulSet({ namespace, name: 'given' });
        const seedInit = statefulSet.spec?.template.spec?.initContainers?.find((c) => c.name === 'seed-init');
        const sha256 = createHash('sha256').update(saiZip).digest('hex');
        assert.equal(NETWORK_PACKAGE_PRESETS.sai.checksum.hex, sha256, 'the shared sai.zip is the pinned one');
        assert.deepEqual(seedInit?.args?.slice(-4), [
          '--package-file',
          '/package/package.zip',
          '--package-checksum',
          `sha256:${sha256}`,
        ]);
        assert.ok(!(seedInit?.args ?? []).includes('--package-url'), 'no download from the internet');
        const name = networkPackageConfigMapName(saiZip);
        const volume = statefulSet.spec?.template.spec?.volumes?.find((v) => v.configMap?.name === name);
        assert.ok(volume, `the pod mounts ConfigMap ${name}`);
        const published = await kube.core.readNamespacedConfigMap({ namespace, name });
        assert.ok(Buffer.from(published.binaryData?.['package.zip'] ?? '', 'base64').equals(saiZip));
        assert.equal(published.immutable, true);
        assert.equal(published.metadata?.ownerReferences, undefined, 'shared, owned by no node');
        const all = await kube.core.listNamespacedConfigMap({
          namespace,
          labelSelector: 'app.kubernetes.io/component=network-package',
        });
        assert.deepEqual(
          all.items.map((cm) => cm.metadata?.name),
          [name],
          'one ConfigMap for the package, named by its content',
        );
      });
    });
  } finally {
    await standIn.close();
  }
});
