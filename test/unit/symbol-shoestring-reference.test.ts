/**
 * Compares our generator with Symbol's own setup tool, shoestring 0.2.3, run offline on the shared sai package
 * (see test/support/shoestring.ts and shoestring_offline_setup.py for how the network calls are replaced).
 *
 * Both sides get the same inputs: package zip, features, host, friendly name, CA (main account) key, peer lists,
 * and for harvesters the remote/VRF keys shoestring generated. Everything is compared; the only differences allowed
 * are listed below with their reasons, and for each of them the test also asserts shoestring's actual value, so a
 * change on either side shows up.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

// through the index, so the re-exports are type-checked and linted too
import {
  NETWORK_PACKAGE_PRESETS,
  type NodeRole,
  type PeerEntry,
  PrivateKeySecret,
  PropertiesDocument,
  buildNodeConfig,
  createCaCertificate,
  createNodeCertificate,
  defaultCaCommonName,
  defaultNodeCommonName,
  formatPeersFile,
  loadNetworkPackageFromZip,
  parseNodewatchNodes,
  peersFromNodewatch,
  publicKeyFromPem,
  publicKeyToPem,
  verifyCatapultChain,
} from '../../symbol/index.js';
import { startNodewatchStandIn, standInNodeLists } from '../support/nodewatch.js';
import { saiPackageZip } from '../support/paths.js';
import { SHOESTRING_VERSION, ensureShoestring, runShoestringSetup, shoestringVenvDir } from '../support/shoestring.js';

const run = promisify(execFile);

/** shoestring's own peer download (internal/PeerDownloader.py) against a nodewatch URL, into a directory. */
const DOWNLOAD_PEERS = [
  'import asyncio, gettext, sys',
  'from pathlib import Path',
  'import shoestring',
  'from shoestring.internal.PeerDownloader import download_peers',
  "lang = Path(shoestring.__file__).resolve().parent / 'lang'",
  "gettext.translation('messages', localedir=lang, languages=('en',)).install()",
  'asyncio.run(download_peers(sys.argv[1], Path(sys.argv[2]), True))',
].join('\n');

// An IP: shoestring DNS-resolves non-IP hosts, which needs a resolver; TEST-NET-1 is never contacted.
const HOST = '192.0.2.10';
const FRIENDLY_NAME = 'k8s-reference-node';
const DAY = 86_400_000;

const PEERS_P2P: PeerEntry[] = [
  {
    publicKey: 'F'.repeat(64),
    endpoint: { host: 'peer-z.example.org', port: 7900 },
    metadata: { name: 'zeta', roles: 'Peer' },
  },
  {
    publicKey: '0A'.repeat(32),
    endpoint: { host: 'dual-a.example.org', port: 7900, api_port: 3001 },
    metadata: { name: 'Älpha ✓', roles: 'Peer,Api,Voting' },
  },
];
const PEERS_API: PeerEntry[] = [
  {
    publicKey: 'C'.repeat(64),
    endpoint: { host: 'api-c.example.org', port: 7900, api_port: 3000 },
    metadata: { name: 'api-c', roles: 'Peer,Api' },
  },
];

interface ReferenceCase {
  readonly name: string;
  readonly features: string;
  readonly lightApi: boolean;
  readonly role: NodeRole;
  readonly harvester: boolean;
  readonly voter: boolean;
}

const CASES: ReferenceCase[] = [
  { name: 'peer', features: 'PEER', lightApi: false, role: 'peer', harvester: false, voter: false },
  { name: 'full API (dual)', features: 'API', lightApi: false, role: 'full-api', harvester: false, voter: false },
  { name: 'light API', features: 'API', lightApi: true, role: 'light-api', harvester: false, voter: false },
  {
    name: 'dual + harvester + voter',
    features: 'API|HARVESTER|VOTER',
    lightApi: false,
    role: 'full-api',
    harvester: true,
    voter: true,
  },
  { name: 'peer + harvester', features: 'HARVESTER', lightApi: false, role: 'peer', harvester: true, voter: false },
];

/** Deliberate differences in .properties (nodeConfig.ts deviations 1, 2 and 7). */
const PROPERTY_DEVIATIONS = [
  {
    path: 'resources/config-node.properties',
    section: 'node',
    key: 'enableAddressReuse',
    shoestring: 'false',
    ours: 'true',
    applies: (_c: ReferenceCase) => true,
    why: 'a server restarted in place in its pod must bind 7900 again while old connections are in TIME-WAIT',
  },
  {
    path: 'resources/config-node.properties',
    section: 'node',
    key: 'trustedHosts',
    shoestring: '127.0.0.1,172.20.0.25',
    ours: '127.0.0.1',
    applies: (c: ReferenceCase) => c.role !== 'peer',
    why: '172.20.0.25 is the REST container in docker-compose; in a pod REST connects over loopback',
  },
  {
    path: 'resources/config-node.properties',
    section: 'node',
    key: 'localNetworks',
    shoestring: '127.0.0.1,172.20',
    ours: '127.0.0.1',
    applies: (c: ReferenceCase) => c.role !== 'peer',
    why: 'same: no docker network in a pod',
  },
  {
    path: 'resources/config-database.properties',
    section: 'database',
    key: 'databaseUri',
    shoestring: 'mongodb://db:27017',
    ours: 'mongodb://127.0.0.1:27017',
    applies: (c: ReferenceCase) => c.role === 'full-api',
    why: '"db" is a docker-compose service name; MongoDB runs in the same pod',
  },
];

/** Deliberate differences in rest.json (nodeConfig.ts deviation 3). */
const REST_DEVIATIONS = [
  { path: ['apiNode', 'host'], shoestring: 'client', ours: '127.0.0.1', applies: (_c: ReferenceCase) => true },
  {
    path: ['db', 'url'],
    shoestring: 'mongodb://db:27017/',
    ours: 'mongodb://127.0.0.1:27017/',
    applies: (c: ReferenceCase) => c.role === 'full-api',
  },
  {
    path: ['websocket', 'mq', 'host'],
    shoestring: 'broker',
    ours: '127.0.0.1',
    applies: (c: ReferenceCase) => c.role === 'full-api',
  },
];

/** Deviation 4: shoestring rewrites every line of a file it patched with surrounding whitespace stripped. */
function normalizeWhitespace(text: string): string[] {
  return text.split('\n').map((line) => line.trim());
}

function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(root, path), readFileSync(path, 'utf8'));
    }
  };
  walk(root);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function getPath(object: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
}

function setPath(object: unknown, path: readonly string[], value: unknown): void {
  const parent = getPath(object, path.slice(0, -1)) as Record<string, unknown>;
  parent[path[path.length - 1]!] = value;
}

function extensionsOf(pem: string): Array<{ type: string; critical: boolean; value: string }> {
  return [...new x509.X509Certificate(pem).extensions].map((extension) => ({
    type: extension.type,
    critical: extension.critical,
    value: Buffer.from(extension.value).toString('hex'),
  }));
}

function tbsShape(pem: string) {
  const cert = new x509.X509Certificate(pem);
  const node = new X509Certificate(pem);
  return {
    subject: Buffer.from(cert.subjectName.toArrayBuffer()).toString('hex'),
    issuer: Buffer.from(cert.issuerName.toArrayBuffer()).toString('hex'),
    publicKey: Buffer.from(cert.publicKey.rawData).toString('hex'),
    signatureAlgorithm: (cert.signatureAlgorithm as { name?: string }).name,
    days: (Date.parse(node.validTo) - Date.parse(node.validFrom)) / DAY,
  };
}

void describe(`shoestring ${SHOESTRING_VERSION} reference`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'symbol-shoestring-ref-'));
  const pkg = loadNetworkPackageFromZip(new Uint8Array(readFileSync(saiPackageZip)));
  const mainKey = PrivateKeySecret.generate();
  const caKeyPath = join(scratch, 'ca.key.pem');
  const outputs = new Map<string, string>();
  let python = '';

  before(
    async () => {
      writeFileSync(caKeyPath, mainKey.toPem(), { mode: 0o600 });
      const started = Date.now();
      const install = await ensureShoestring();
      python = install.python;
      const venvSeconds = (Date.now() - started) / 1000;
      const setupStarted = Date.now();
      for (const c of CASES) {
        const output = await runShoestringSetup(python, {
          package: pathToFileURL(saiPackageZip).href,
          workDir: join(scratch, c.name.replace(/\W+/g, '-')),
          caKeyPath,
          features: c.features,
          lightApi: c.lightApi,
          apiHttps: false,
          caCommonName: defaultCaCommonName(FRIENDLY_NAME),
          nodeCommonName: defaultNodeCommonName(FRIENDLY_NAME, HOST),
          host: HOST,
          friendlyName: FRIENDLY_NAME,
          peersP2p: PEERS_P2P,
          peersApi: PEERS_API,
          finalizationEpoch: 100,
        });
        outputs.set(c.name, output);
      }
      console.log(
        `shoestring venv ${install.created ? 'created' : 'reused'} at ${shoestringVenvDir()} in ${venvSeconds.toFixed(1)} s; ` +
          `${CASES.length} setups in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`,
      );
    },
    { timeout: 15 * 60_000 },
  );
  after(() => rmSync(scratch, { recursive: true, force: true }));

  void it("peer lists from nodewatch: byte for byte what shoestring's download_peers writes from the same answers", async () => {
    // At most 20 eligible nodes per list, so shoestring's random choice keeps them all and both sides must agree.
    const all = standInNodeLists();
    const lists = { peer: all.peer.slice(0, 12), api: all.api };
    const standIn = await startNodewatchStandIn(lists);
    try {
      const dir = join(scratch, 'nodewatch-peers');
      mkdirSync(dir);
      await run(python, ['-c', DOWNLOAD_PEERS, standIn.url, dir], { timeout: 60_000 });
      assert.deepEqual(standIn.requests, ['/testnet/api/symbol/nodes/peer', '/testnet/api/symbol/nodes/api']);
      const ours = peersFromNodewatch(
        { peer: parseNodewatchNodes(lists.peer, 'peer'), api: parseNodewatchNodes(lists.api, 'api') },
        { seed: 'symbol/reference' },
      );
      assert.equal(ours.p2p.length, 11, 'one of the 12 has no endpoint');
      assert.equal(readFileSync(join(dir, 'peers-p2p.json'), 'utf8'), formatPeersFile('p2p', ours.p2p));
      assert.equal(readFileSync(join(dir, 'peers-api.json'), 'utf8'), formatPeersFile('api', ours.api));
    } finally {
      await standIn.close();
    }
  });

  for (const c of CASES) {
    void it(`${c.name}: same userconfig/ as shoestring, except the listed deviations`, () => {
      const output = outputs.get(c.name)!;
      const theirs = readTree(join(output, 'userconfig'));
      const harvesting = c.harvester
        ? {
            signingKey: PrivateKeySecret.fromPem(readFileSync(join(output, 'keys/remote.pem'), 'utf8')),
            vrfKey: PrivateKeySecret.fromPem(readFileSync(join(output, 'keys/vrf.pem'), 'utf8')),
          }
        : undefined;
      const ours = buildNodeConfig(pkg, {
        role: c.role,
        harvester: c.harvester,
        voter: c.voter,
        host: HOST,
        friendlyName: FRIENDLY_NAME,
        ...(harvesting ? { harvesting } : {}),
        peers: { p2p: PEERS_P2P, ...(c.role === 'full-api' ? { api: PEERS_API } : {}) },
      });

      assert.deepEqual([...ours.keys()], [...theirs.keys()], 'same file set');

      for (const [path, theirText] of theirs) {
        const ourText = ours.get(path) as string;
        if (path.endsWith('.properties')) {
          const theirDoc = PropertiesDocument.parse(theirText, `shoestring ${path}`);
          const ourDoc = PropertiesDocument.parse(ourText, `ours ${path}`);
          for (const d of PROPERTY_DEVIATIONS.filter((d) => d.path === path && d.applies(c))) {
            assert.equal(theirDoc.get(d.section, d.key), d.shoestring, `shoestring's ${path} [${d.section}] ${d.key}`);
            assert.equal(ourDoc.get(d.section, d.key), d.ours, `our ${path} [${d.section}] ${d.key} (${d.why})`);
            theirDoc.set(d.section, d.key, d.ours);
          }
          assert.deepEqual(normalizeWhitespace(ourText), normalizeWhitespace(theirDoc.toString()), path);
        } else if (path === 'rest.json') {
          const theirRest = JSON.parse(theirText) as unknown;
          const ourRest = JSON.parse(ourText) as unknown;
          for (const d of REST_DEVIATIONS.filter((d) => d.applies(c))) {
            assert.equal(getPath(theirRest, d.path), d.shoestring, `shoestring's rest.json ${d.path.join('.')}`);
            assert.equal(getPath(ourRest, d.path), d.ours, `our rest.json ${d.path.join('.')}`);
            setPath(theirRest, d.path, d.ours);
          }
          assert.deepEqual(ourRest, theirRest, 'rest.json');
        } else {
          assert.equal(ourText, theirText, `${path} byte for byte`);
        }
      }
    });
  }

  void it('accepts the key and certificate files shoestring writes, and writes them in the same form', async () => {
    const cert = join(outputs.get('peer')!, 'keys/cert');
    const read = (name: string) => readFileSync(join(cert, name), 'utf8');
    assert.equal(read('ca.pubkey.pem'), publicKeyToPem(mainKey.publicKey), 'ca.pubkey.pem byte for byte');
    assert.equal(publicKeyFromPem(read('ca.pubkey.pem')), mainKey.publicKey);
    const nodeKey = PrivateKeySecret.fromPem(read('node.key.pem'));
    assert.equal(nodeKey.toPem(), read('node.key.pem'), 'node.key.pem byte for byte');
    assert.equal(read('node.full.crt.pem'), read('node.crt.pem') + read('ca.crt.pem'), 'full chain = node + CA');
    const { node, ca } = await verifyCatapultChain(read('node.full.crt.pem'), {
      expectedCaPublicKey: mainKey.publicKey,
      expectedNodePublicKey: nodeKey.publicKey,
    });
    assert.equal(node.subjectCommonName, defaultNodeCommonName(FRIENDLY_NAME, HOST));
    assert.equal(ca.subjectCommonName, defaultCaCommonName(FRIENDLY_NAME));
  });

  void it("CA certificate: identical to shoestring's except serial, dates and signature", async () => {
    const theirs = readFileSync(join(outputs.get('peer')!, 'keys/cert/ca.crt.pem'), 'utf8');
    const ours = await createCaCertificate({ mainKey, commonName: defaultCaCommonName(FRIENDLY_NAME) });
    assert.deepEqual(tbsShape(ours), tbsShape(theirs));
    assert.deepEqual(extensionsOf(ours), extensionsOf(theirs), 'basicConstraints, SKI, AKI byte for byte');
    // openssl req -x509: 159 random bits, so 20 octets unless the leading ones happen to be zero
    const serialOctets = (pem: string) => new X509Certificate(pem).serialNumber.length / 2;
    assert.equal(serialOctets(ours), 20);
    assert.ok(serialOctets(theirs) <= 20 && serialOctets(theirs) >= 18);
  });

  void it('node certificate: same names, key, issuer and lifetime; v3 extensions are our documented addition', async () => {
    const dir = join(outputs.get('peer')!, 'keys/cert');
    const theirs = readFileSync(join(dir, 'node.crt.pem'), 'utf8');
    const theirNodeKey = PrivateKeySecret.fromPem(readFileSync(join(dir, 'node.key.pem'), 'utf8'));
    const ours = await createNodeCertificate({
      caKey: mainKey,
      caCertificatePem: readFileSync(join(dir, 'ca.crt.pem'), 'utf8'),
      nodePublicKey: theirNodeKey.publicKey,
      commonName: defaultNodeCommonName(FRIENDLY_NAME, HOST),
    });
    assert.deepEqual(tbsShape(ours), tbsShape(theirs));
    // shoestring signs with `openssl ca`, which ignores node.cnf's x509_extensions: a v1 certificate
    assert.deepEqual(extensionsOf(theirs), [], 'shoestring 0.2.3 node certificate has no extensions');
    assert.deepEqual(
      extensionsOf(ours).map((e) => e.type),
      ['2.5.29.19', '2.5.29.14', '2.5.29.35'],
    );
    const serialBytes = (pem: string) => new X509Certificate(pem).serialNumber.length / 2;
    assert.equal(serialBytes(ours), 19);
    assert.ok(
      serialBytes(theirs) <= 19 && serialBytes(theirs) >= 17,
      'openssl rand -hex 19 (leading zero bytes vanish)',
    );
    // our node certificate chains to the CA shoestring made
    const ourPath = join(dir, '..', 'our-node.crt.pem');
    writeFileSync(ourPath, ours);
    const { stdout } = await run('openssl', ['verify', '-CAfile', join(dir, 'ca.crt.pem'), ourPath]);
    assert.match(stdout, /OK/);
  });

  void it('package presets point where shoestring resolves them, with its pinned hash', async () => {
    const script = [
      'import json',
      'from shoestring.internal import PackageResolver as r',
      'print(json.dumps({"hashes": r.OFFICIAL_HASHES, "sai": r._resolve_testnet_name("sai")}))',
    ].join('\n');
    const { stdout } = await run(python, ['-c', script]);
    const reference = JSON.parse(stdout) as { hashes: Record<string, string>; sai: string };
    assert.equal(reference.sai, NETWORK_PACKAGE_PRESETS.sai.url);
    const [tag, hash] = Object.entries(reference.hashes)[0]!;
    assert.equal(NETWORK_PACKAGE_PRESETS.mainnet.checksum.hex, hash);
    assert.ok(
      NETWORK_PACKAGE_PRESETS.mainnet.url.includes(encodeURIComponent(tag)),
      `${NETWORK_PACKAGE_PRESETS.mainnet.url} is the ${tag} release`,
    );
  });
});
