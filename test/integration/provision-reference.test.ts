/**
 * The configuration that actually reaches the cluster matches Symbol's own setup tool.
 *
 * The unit reference test (test/unit/symbol-shoestring-reference.test.ts) compares the generator in isolation; this
 * one provisions real SymbolNodes through the running operator and compares the ConfigMaps it applied with what
 * shoestring 0.2.3 `setup` writes, run offline (test/support/shoestring.ts) for the same inputs: the same sai package
 * zip, features (PEER for a peer, full API for dual), host, friendly name, main account (CA) key and peer lists
 * (given in spec.peers, so nodewatch is not asked and the lists are known). Only the deliberate deviations listed
 * below may differ, and for each of them both actual values are asserted, so a change on either side shows up.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { SymbolNodeSpecInput } from '../../k8s/symbolNode.js';
import {
  defaultCaCommonName,
  defaultNodeCommonName,
  PrivateKeySecret,
  PropertiesDocument,
} from '../../symbol/index.js';
import { withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { saiPackageZip } from '../support/paths.js';
import { ensureShoestring, runShoestringSetup } from '../support/shoestring.js';
import { conditionOf, createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

/** An IP: shoestring DNS-resolves other host names, which needs a resolver. TEST-NET-1 is never contacted. */
const HOST = '192.0.2.10';

type Role = 'peer' | 'dual';

interface ReferenceNode {
  readonly name: string;
  readonly role: Role;
  /** shoestring.ini `[node] features` (with `lightApi = false`: the full API, as the operator runs it). */
  readonly features: string;
  readonly friendlyName: string;
}

const NODES: readonly ReferenceNode[] = [
  { name: 'ref-peer', role: 'peer', features: 'PEER', friendlyName: 'reference peer' },
  { name: 'ref-dual', role: 'dual', features: 'API', friendlyName: 'reference dual' },
];

/**
 * Deliberate differences in `.properties`, from the deviation list at the top of symbol/nodeConfig.ts (numbers
 * refer to it); the unit reference test keeps the same list as `PROPERTY_DEVIATIONS` (not exported).
 * Deviation 4 (whitespace of edited files) is handled by {@link normalizeWhitespace}; 5 (peer lists) does not arise
 * because both sides get the same lists; 6 (explicit config-user.properties paths) equals the template's values.
 */
const PROPERTY_DEVIATIONS = [
  {
    // deviation 7: a server restarted in place in its pod must bind 7900 again while old connections linger
    file: 'config-node.properties',
    section: 'node',
    key: 'enableAddressReuse',
    shoestring: 'false',
    ours: 'true',
    roles: ['peer', 'dual'] as Role[],
  },
  {
    // deviation 1: REST reaches the server over loopback in the pod; 172.20.0.25 is REST in docker-compose
    file: 'config-node.properties',
    section: 'node',
    key: 'trustedHosts',
    shoestring: '127.0.0.1,172.20.0.25',
    ours: '127.0.0.1',
    roles: ['dual'] as Role[],
  },
  {
    // deviation 1: no docker network in a pod
    file: 'config-node.properties',
    section: 'node',
    key: 'localNetworks',
    shoestring: '127.0.0.1,172.20',
    ours: '127.0.0.1',
    roles: ['dual'] as Role[],
  },
  {
    // deviation 2: "db" is a docker-compose service name; MongoDB runs in the same pod
    file: 'config-database.properties',
    section: 'database',
    key: 'databaseUri',
    shoestring: 'mongodb://db:27017',
    ours: 'mongodb://127.0.0.1:27017',
    roles: ['dual'] as Role[],
  },
];

/** Deliberate differences in rest.json (symbol/nodeConfig.ts deviation 3; unit test `REST_DEVIATIONS`). */
const REST_DEVIATIONS = [
  { path: ['apiNode', 'host'], shoestring: 'client', ours: '127.0.0.1' },
  { path: ['db', 'url'], shoestring: 'mongodb://db:27017/', ours: 'mongodb://127.0.0.1:27017/' },
  { path: ['websocket', 'mq', 'host'], shoestring: 'broker', ours: '127.0.0.1' },
];

/** Deviation 4: shoestring rewrites every line of a file it patched with surrounding whitespace stripped. */
function normalizeWhitespace(text: string): string[] {
  return text.split('\n').map((line) => line.trim());
}

function getPath(object: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
}

function setPath(object: unknown, path: readonly string[], value: unknown): void {
  const parent = getPath(object, path.slice(0, -1)) as Record<string, unknown>;
  parent[path[path.length - 1]!] = value;
}

const decode = (secret: k8s.V1Secret, key: string): string =>
  Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

interface Peer {
  publicKey: string;
  host: string;
  port: number;
  apiPort?: number;
  name: string;
  roles: string;
}

/** Starting peers, as spec.peers says them and as shoestring's NodeDownloader writes them. */
const PEERS: { p2p: Peer[]; api: Peer[] } = {
  p2p: [
    { publicKey: 'F'.repeat(64), host: 'peer-z.example.org', port: 7900, name: 'zeta', roles: 'Peer' },
    {
      publicKey: '0A'.repeat(32),
      host: 'dual-a.example.org',
      port: 7900,
      apiPort: 3001,
      name: 'Älpha ✓',
      roles: 'Peer,Api,Voting',
    },
  ],
  api: [
    {
      publicKey: 'C'.repeat(64),
      host: 'api-c.example.org',
      port: 7900,
      apiPort: 3000,
      name: 'api-c',
      roles: 'Peer,Api',
    },
  ],
};
const asShoestring = (peers: Peer[]) =>
  peers.map((p) => ({
    publicKey: p.publicKey,
    endpoint: { host: p.host, port: p.port, ...(p.apiPort !== undefined ? { api_port: p.apiPort } : {}) },
    metadata: { name: p.name, roles: p.roles },
  }));

function specOf(node: ReferenceNode): SymbolNodeSpecInput {
  return {
    ...saiPeerSpec,
    role: node.role,
    hostName: HOST,
    friendlyName: node.friendlyName,
    identitySecretRef: { name: `${node.name}-main-key` },
    peers: node.role === 'dual' ? PEERS : { p2p: PEERS.p2p },
    ...(node.role === 'dual' ? { restImage: 'symbolplatform/symbol-rest:2.5.1', mongoImage: 'mongo:7.0.16' } : {}),
  };
}

test("the ConfigMaps the operator applies for a peer and a dual node match shoestring 0.2.3's userconfig, except the documented deviations", async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'sno-reference-'));
  try {
    await withNamespace('provision-ref', async (namespace, kc) => {
      await withOperator({ namespace }, async ({ kube }) => {
        // Same main account key on both sides: the operator reads it from the Secret, shoestring from ca.key.pem.
        const keys = new Map(NODES.map((node) => [node.name, PrivateKeySecret.generate()]));
        for (const node of NODES) {
          await kube.core.createNamespacedSecret({
            namespace,
            body: {
              metadata: { name: `${node.name}-main-key`, namespace },
              stringData: { privateKey: keys.get(node.name)!.revealHex() },
            },
          });
        }
        const provisioned = Promise.all(
          NODES.map(async (node) => {
            await createSymbolNode(kc, namespace, node.name, specOf(node));
            return waitForCondition(kc, namespace, node.name, 'Provisioned', 'True');
          }),
        );
        const { python } = await ensureShoestring();
        const outputs = await Promise.all(
          NODES.map(async (node) => {
            const workDir = join(scratch, node.name);
            const caKeyPath = join(scratch, `${node.name}.ca.key.pem`);
            await writeFile(caKeyPath, keys.get(node.name)!.toPem(), { mode: 0o600 });
            return runShoestringSetup(python, {
              package: pathToFileURL(saiPackageZip).href,
              workDir,
              caKeyPath,
              features: node.features,
              lightApi: false,
              apiHttps: false,
              caCommonName: defaultCaCommonName(node.friendlyName),
              nodeCommonName: defaultNodeCommonName(node.friendlyName, HOST),
              host: HOST,
              friendlyName: node.friendlyName,
              peersP2p: asShoestring(PEERS.p2p),
              peersApi: asShoestring(PEERS.api),
              finalizationEpoch: 1,
            });
          }),
        );
        for (const status of await provisioned) assert.equal(conditionOf(status, 'Provisioned')?.observedGeneration, 1);

        for (const [index, node] of NODES.entries()) {
          const output = outputs[index]!;
          const theirDir = join(output, 'userconfig', 'resources');
          const theirFiles = (await readdir(theirDir)).sort();
          const resources = await kube.core.readNamespacedConfigMap({ namespace, name: `${node.name}-resources` });
          const ours = resources.data ?? {};
          assert.deepEqual(
            Object.keys(ours).sort(),
            theirFiles,
            `${node.name}: same files as shoestring's userconfig/resources`,
          );
          assert.ok(
            theirFiles.filter((f) => f.endsWith('.properties')).length >= (node.role === 'peer' ? 11 : 16),
            `${node.name}: ${theirFiles.join(', ')}`,
          );

          for (const file of theirFiles) {
            const theirText = await readFile(join(theirDir, file), 'utf8');
            const ourText = ours[file]!;
            if (!file.endsWith('.properties')) {
              // peers-p2p.json, peers-api.json: shoestring's own _save_peers_file format.
              assert.equal(ourText, theirText, `${node.name}: ${file} byte for byte`);
              continue;
            }
            const theirDoc = PropertiesDocument.parse(theirText, `shoestring ${file}`);
            const ourDoc = PropertiesDocument.parse(ourText, `ConfigMap ${file}`);
            for (const d of PROPERTY_DEVIATIONS.filter((d) => d.file === file && d.roles.includes(node.role))) {
              assert.equal(
                theirDoc.get(d.section, d.key),
                d.shoestring,
                `${node.name}: shoestring's ${file} [${d.section}] ${d.key}`,
              );
              assert.equal(
                ourDoc.get(d.section, d.key),
                d.ours,
                `${node.name}: ConfigMap ${file} [${d.section}] ${d.key}`,
              );
              theirDoc.set(d.section, d.key, d.ours);
            }
            assert.deepEqual(
              normalizeWhitespace(ourText),
              normalizeWhitespace(theirDoc.toString()),
              `${node.name}: ${file}`,
            );
          }

          // The inputs really were the node's: host, friendly name, roles.
          const nodeProperties = PropertiesDocument.parse(ours['config-node.properties']!);
          assert.equal(nodeProperties.get('localnode', 'host'), HOST);
          assert.equal(nodeProperties.get('localnode', 'friendlyName'), node.friendlyName);
          assert.equal(nodeProperties.get('localnode', 'roles'), node.role === 'peer' ? 'Peer' : 'Peer,Api');

          if (node.role === 'dual') {
            const rest = await kube.core.readNamespacedConfigMap({ namespace, name: `${node.name}-rest` });
            const ourRest = JSON.parse(rest.data?.['rest.json'] ?? '') as unknown;
            const theirRest = JSON.parse(await readFile(join(output, 'userconfig', 'rest.json'), 'utf8')) as unknown;
            for (const d of REST_DEVIATIONS) {
              assert.equal(getPath(theirRest, d.path), d.shoestring, `shoestring's rest.json ${d.path.join('.')}`);
              assert.equal(getPath(ourRest, d.path), d.ours, `ConfigMap rest.json ${d.path.join('.')}`);
              setPath(theirRest, d.path, d.ours);
            }
            assert.deepEqual(ourRest, theirRest, `${node.name}: rest.json`);
          } else {
            await assert.rejects(
              kube.core.readNamespacedConfigMap({ namespace, name: `${node.name}-rest` }),
              (e: unknown) => e instanceof k8s.ApiException && e.code === 404,
            );
          }

          // Certificates Secret: same CA public key file, same names and issuers as shoestring's keys/cert.
          const certificates = await kube.core.readNamespacedSecret({ namespace, name: `${node.name}-certificates` });
          const theirCert = (file: string) => readFile(join(output, 'keys', 'cert', file), 'utf8');
          assert.equal(
            decode(certificates, 'ca.pubkey.pem'),
            await theirCert('ca.pubkey.pem'),
            `${node.name}: ca.pubkey.pem byte for byte`,
          );
          for (const file of ['ca.crt.pem', 'node.crt.pem']) {
            const ourCertificate = new X509Certificate(decode(certificates, file));
            const theirCertificate = new X509Certificate(await theirCert(file));
            assert.equal(ourCertificate.subject, theirCertificate.subject, `${node.name}: ${file} subject`);
            assert.equal(ourCertificate.issuer, theirCertificate.issuer, `${node.name}: ${file} issuer`);
          }
        }
      });
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
