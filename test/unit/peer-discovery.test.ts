/**
 * The operator's search for starting peers (activities/peerDiscovery.ts): spec.peers, else nodewatch — here a
 * stand-in HTTP server answering in nodewatch's JSON (test/support/nodewatch.ts) — else the pinned list of the
 * preset, else none. nodewatch trouble (refused, silent, broken answers) must fall back quickly and quietly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { findStartingPeers, NodewatchClient } from '../../activities/peerDiscovery.js';
import { API_VERSION, KIND, parseSymbolNode, type ParsedSymbolNode } from '../../k8s/symbolNode.js';
import {
  loadNetworkPackageFromZip,
  NetworkPackage,
  parseNodewatchNodes,
  peersFromNodewatch,
  PINNED_PEERS,
} from '../../symbol/index.js';
import { startNodewatchStandIn, standInNodeLists, type NodewatchStandIn } from '../support/nodewatch.js';
import { saiPackageZip } from '../support/paths.js';
import { closedPort } from '../support/ports.js';

const sai = loadNetworkPackageFromZip(new Uint8Array(readFileSync(saiPackageZip)));

/** The sai package with another `[services] nodewatch` line (or none). */
function packageWithNodewatch(url: string | undefined): NetworkPackage {
  const files = new Map(sai.files);
  const ini = sai.text('shoestring.ini');
  const edited = ini.replace(/^nodewatch = .*$/m, url === undefined ? '' : `nodewatch = ${url}`);
  assert.notEqual(edited, ini);
  files.set('shoestring.ini', new TextEncoder().encode(edited));
  return new NetworkPackage(files, 'sai package, nodewatch edited');
}

function node(spec: Record<string, unknown> = {}, name = 'alpha'): ParsedSymbolNode {
  const result = parseSymbolNode({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: 'symbol', uid: `uid-${name}` },
    spec: {
      image: 'symbolplatform/symbol-server:gcc-1.0.3.9',
      network: 'sai',
      hostName: `${name}.example.org`,
      volumeSize: '20Gi',
      ...spec,
    },
  });
  if (!result.ok) assert.fail(result.message);
  return result.node;
}

const dual = { role: 'dual', restImage: 'symbolplatform/symbol-rest:2.5.1', mongoImage: 'mongo:7.0.16' };

void describe('starting peers', () => {
  let standIn: NodewatchStandIn;
  let silent: Server;
  let silentUrl: string;
  before(async () => {
    standIn = await startNodewatchStandIn();
    // accepts connections, never answers: a firewall that swallows packets looks the same to the client
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/testnet`;
  });
  after(async () => {
    await standIn.close();
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  void it("from the network's nodewatch, as shoestring picks them (a peer asks for peer nodes only)", async () => {
    const client = new NodewatchClient();
    const found = await findStartingPeers(node(), packageWithNodewatch(standIn.url), client);
    const lists = standInNodeLists();
    const expected = peersFromNodewatch({ peer: parseNodewatchNodes(lists.peer, 'peer') }, { seed: 'symbol/alpha' });
    assert.deepEqual(found.p2p, expected.p2p);
    assert.equal(found.p2p.length, 20);
    assert.equal(found.api, undefined);
    assert.deepEqual(found.sources, { p2p: 'nodewatch' });
    assert.equal(found.summary, `20 p2p from nodewatch ${standIn.url}`);
    assert.deepEqual(standIn.requests, ['/testnet/api/symbol/nodes/peer']);
  });

  void it('a dual node asks for the api nodes too; answers are cached, so a second node asks nothing', async () => {
    standIn.requests.length = 0;
    const client = new NodewatchClient();
    const pkg = packageWithNodewatch(standIn.url);
    const first = await findStartingPeers(node(dual, 'd1'), pkg, client);
    const second = await findStartingPeers(node(dual, 'd2'), pkg, client);
    assert.deepEqual(standIn.requests.sort(), ['/testnet/api/symbol/nodes/api', '/testnet/api/symbol/nodes/peer']);
    assert.equal(first.api?.length, 18);
    assert.deepEqual(first.sources, { p2p: 'nodewatch', api: 'nodewatch' });
    assert.equal(second.api?.length, 18);
    assert.notDeepEqual(
      first.p2p.map((p) => p.publicKey),
      second.p2p.map((p) => p.publicKey),
      'two nodes, two choices of 20 out of 23',
    );
  });

  void it('nodewatch refusing the connection: the pinned sai list, at once, and the summary says why', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/testnet`;
    const started = Date.now();
    const found = await findStartingPeers(node(dual), packageWithNodewatch(url), new NodewatchClient());
    assert.ok(Date.now() - started < 2000, `fell back in ${Date.now() - started} ms`);
    assert.deepEqual(found.p2p, PINNED_PEERS.sai.p2p);
    assert.deepEqual(found.api, PINNED_PEERS.sai.api);
    assert.deepEqual(found.sources, { p2p: 'pinned', api: 'pinned' });
    assert.match(
      found.summary,
      new RegExp(
        `^5 p2p from the operator's pinned sai list, 3 api from the operator's pinned sai list \\(nodewatch ${url} failed: .*ECONNREFUSED.*\\)$`,
      ),
    );
  });

  void it('nodewatch silent: the pinned list after the short timeout; the failure is remembered briefly', async () => {
    const client = new NodewatchClient({ timeoutMs: 300 });
    const pkg = packageWithNodewatch(silentUrl);
    const started = Date.now();
    const found = await findStartingPeers(node(), pkg, client);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `waited ${elapsed} ms`);
    assert.deepEqual(found.sources, { p2p: 'pinned' });
    assert.match(found.summary, /failed: timed out\)$/);
    const again = Date.now();
    await findStartingPeers(node({}, 'beta'), pkg, client);
    assert.ok(Date.now() - again < 100, 'the next node does not wait again');
  });

  void it('nodewatch answering garbage or an error page: the pinned list', async () => {
    const broken = createServer((request, response) => {
      if (request.url?.endsWith('/peer')) response.writeHead(200, { 'content-type': 'application/json' }).end('{"x":');
      else response.writeHead(502).end('Bad Gateway');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
      const peer = await findStartingPeers(node(), packageWithNodewatch(url), new NodewatchClient());
      assert.deepEqual(peer.sources, { p2p: 'pinned' });
      assert.match(peer.summary, /failed: .*JSON/);
      const client = new NodewatchClient();
      const [answer] = await Promise.all([client.nodes(`${url}/`, 'api')]);
      assert.deepEqual(answer, { ok: false, error: 'HTTP 502' });
    } finally {
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });

  void it('spec.peers replaces a list; the other list is still looked up', async () => {
    standIn.requests.length = 0;
    const mine = {
      publicKey: 'ab'.repeat(32),
      host: 'seed.example.org',
      port: 7901,
      apiPort: 3001,
      name: 'my seed',
      roles: 'Peer,Api',
    };
    const found = await findStartingPeers(
      node({ ...dual, peers: { p2p: [mine] } }),
      packageWithNodewatch(standIn.url),
      new NodewatchClient(),
    );
    assert.deepEqual(found.p2p, [
      {
        publicKey: 'AB'.repeat(32),
        endpoint: { host: 'seed.example.org', port: 7901, api_port: 3001 },
        metadata: { name: 'my seed', roles: 'Peer,Api' },
      },
    ]);
    assert.deepEqual(found.sources, { p2p: 'spec', api: 'nodewatch' });
    assert.equal(found.summary, `1 p2p from spec.peers, 18 api from nodewatch ${standIn.url}`);
    // defaults of a minimal entry; a peer node with its p2p list given needs nothing from nodewatch
    standIn.requests.length = 0;
    const minimal = await findStartingPeers(
      node({ peers: { p2p: [{ publicKey: 'cd'.repeat(32), host: '192.0.2.7' }] } }),
      packageWithNodewatch(standIn.url),
      new NodewatchClient(),
    );
    assert.deepEqual(minimal.p2p[0]?.endpoint, { host: '192.0.2.7', port: 7900 });
    assert.deepEqual(minimal.p2p[0]?.metadata, { name: '', roles: 'Peer' });
    assert.deepEqual(standIn.requests, []);
  });

  void it('spec.peers for every list: nodewatch is not asked at all', async () => {
    standIn.requests.length = 0;
    const found = await findStartingPeers(
      node({ ...dual, peers: { p2p: [], api: [] } }),
      packageWithNodewatch(standIn.url),
      new NodewatchClient(),
    );
    assert.deepEqual(standIn.requests, []);
    assert.deepEqual(found.sources, { p2p: 'spec', api: 'spec' });
    assert.equal(found.p2p.length, 0, 'an explicit empty list stays empty (reported as NoKnownPeers)');
  });

  void it('a custom network whose package names no nodewatch and no spec.peers: no peers, and says why', async () => {
    const custom = node({ network: 'custom', networkPackage: { configMapRef: { name: 'my-package' } } });
    const found = await findStartingPeers(custom, packageWithNodewatch(undefined), new NodewatchClient());
    assert.deepEqual([found.p2p, found.sources], [[], { p2p: 'none' }]);
    assert.equal(found.summary, '0 p2p from nowhere (the network package names no nodewatch)');
    const unreachable = await findStartingPeers(
      custom,
      packageWithNodewatch(`http://127.0.0.1:${await closedPort()}`),
      new NodewatchClient(),
    );
    assert.deepEqual(unreachable.sources, { p2p: 'none' }, 'no pinned list for a custom network');
  });
});
