/**
 * Starting peers from nodewatch's JSON (symbol/peers.ts), chosen as shoestring's NodeDownloader does, and the
 * pinned lists. The byte-for-byte comparison with shoestring's own download_peers against the same answers is in
 * test/unit/symbol-shoestring-reference.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formatPeersFile,
  NODEWATCH_MAX_PEERS,
  NodewatchAnswerError,
  parseNodewatchNodes,
  peersFromNodewatch,
  PINNED_PEERS,
  rolesString,
  selectNodewatchPeers,
} from '../../symbol/index.js';
import { standInNodeLists } from '../support/nodewatch.js';

const lists = standInNodeLists();
const peerNodes = parseNodewatchNodes(lists.peer, 'stand-in /nodes/peer');
const apiNodes = parseNodewatchNodes(lists.api, 'stand-in /nodes/api');

void describe('nodewatch answers', () => {
  void it("reads nodewatch's node JSON, skipping entries without a usable key or roles", () => {
    assert.equal(peerNodes.length, 24);
    assert.deepEqual(peerNodes[0], {
      mainPublicKey: lists.peer[0]!.mainPublicKey,
      endpoint: 'https://dual-0.example.org:3001',
      name: 'stand-in node 0',
      roles: 7,
      balance: lists.peer[0]!.balance,
    });
    const broken = [{ ...lists.peer[0], mainPublicKey: 'xyz' }, { ...lists.peer[1], roles: 'Peer' }, null, 'node'];
    assert.deepEqual(parseNodewatchNodes(broken, 'x'), []);
    assert.throws(() => parseNodewatchNodes({ error: 'maintenance' }, 'nodewatch x'), NodewatchAnswerError);
  });

  void it("maps a node as shoestring's _map_node_to_peers_format: port 7900, api_port from the endpoint of Api nodes", () => {
    const p2p = selectNodewatchPeers(peerNodes, 'p2p', { seed: 'ns/a', max: 100 });
    const byHost = new Map(p2p.map((peer) => [peer.endpoint.host, peer]));
    assert.deepEqual(byHost.get('dual-0.example.org'), {
      publicKey: lists.peer[0]!.mainPublicKey,
      endpoint: { host: 'dual-0.example.org', port: 7900, api_port: 3001 },
      metadata: { name: 'stand-in node 0', roles: 'Peer,Api,Voting' },
    });
    assert.deepEqual(byHost.get('dual-1.example.org')?.endpoint, {
      host: 'dual-1.example.org',
      port: 7900,
      api_port: 3000,
    });
    assert.deepEqual(byHost.get('peer-2.example.org')?.endpoint, { host: 'peer-2.example.org', port: 7900 });
    assert.equal(byHost.get('peer-2.example.org')?.metadata.roles, 'Peer,Voting');
    assert.equal(rolesString(0xc7), 'Peer,Api,Voting,IPv4,IPv6');
  });

  void it('p2p: nodes with the Peer bit and an endpoint, at most 20; api: Api nodes of both lists', () => {
    const eligible = lists.peer.filter((n) => n.endpoint !== '' && (n.roles & 1) !== 0).map((n) => n.mainPublicKey);
    assert.equal(eligible.length, 23);
    const { p2p, api } = peersFromNodewatch({ peer: peerNodes, api: apiNodes }, { seed: 'symbol/alpha' });
    assert.equal(p2p.length, NODEWATCH_MAX_PEERS);
    assert.ok(p2p.every((peer) => eligible.includes(peer.publicKey)));
    assert.equal(new Set(p2p.map((peer) => peer.publicKey)).size, p2p.length, 'no node twice');
    const apiEligible = [...lists.peer, ...lists.api]
      .filter((n) => n.endpoint !== '' && (n.roles & 2) !== 0)
      .map((n) => n.mainPublicKey)
      .sort();
    assert.equal(apiEligible.length, 18);
    assert.deepEqual(api.map((peer) => peer.publicKey).sort(), apiEligible, 'fewer than 20: all of them');
    assert.deepEqual(peersFromNodewatch({ peer: peerNodes }, { seed: 'x' }).api, [], 'api only when asked');
  });

  void it('the same node gets the same peers every time; other nodes spread over the network', () => {
    const pick = (seed: string) =>
      selectNodewatchPeers(peerNodes, 'p2p', { seed, max: 5 }).map((peer) => peer.publicKey);
    assert.deepEqual(pick('symbol/alpha'), pick('symbol/alpha'));
    assert.deepEqual(
      selectNodewatchPeers([...peerNodes].reverse(), 'p2p', { seed: 'symbol/alpha', max: 5 }).map((p) => p.publicKey),
      pick('symbol/alpha'),
      'independent of nodewatch order',
    );
    const choices = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => pick(`symbol/${n}`).join()));
    assert.ok(choices.size > 1, 'different nodes, different peers');
    // a node leaving nodewatch costs only its own slot
    const before = pick('symbol/alpha');
    const without = peerNodes.filter((n) => n.mainPublicKey !== before[0]);
    const after = selectNodewatchPeers(without, 'p2p', { seed: 'symbol/alpha', max: 5 }).map((p) => p.publicKey);
    assert.deepEqual(after.slice(0, 4), before.slice(1));
    assert.deepEqual(
      selectNodewatchPeers(peerNodes, 'p2p', { seed: 's', exclude: [before[0]!.toLowerCase()], max: 100 }).some(
        (p) => p.publicKey === before[0],
      ),
      false,
      'excluded keys (the node itself) are left out',
    );
  });
});

void describe('pinned peer lists', () => {
  void it('sai: the five sai nodes of symbol-bootstrap, three of them Api with REST on 3001', () => {
    const { p2p, api } = PINNED_PEERS.sai;
    assert.deepEqual(
      p2p.map((peer) => peer.metadata.name),
      ['001-sai-dual', '101-sai-peer', '201-sai-dual', '301-sai-peer', '401-sai-dual'],
    );
    assert.deepEqual(
      api.map((peer) => `${peer.endpoint.host}:${peer.endpoint.api_port}`),
      ['001-sai-dual.symboltest.net:3001', '201-sai-dual.symboltest.net:3001', '401-sai-dual.symboltest.net:3001'],
    );
  });

  void it('every pinned entry is well-formed and unique, and formats as a peers file', () => {
    for (const [network, { p2p, api }] of Object.entries(PINNED_PEERS)) {
      for (const [kind, peers] of [
        ['p2p', p2p],
        ['api', api],
      ] as const) {
        assert.ok(peers.length > 0 && peers.length <= NODEWATCH_MAX_PEERS, `${network} ${kind}`);
        assert.equal(new Set(peers.map((p) => p.publicKey)).size, peers.length, `${network} ${kind} unique keys`);
        for (const peer of peers) {
          assert.match(peer.publicKey, /^[0-9A-F]{64}$/);
          assert.equal(peer.endpoint.port, 7900);
          assert.match(peer.metadata.roles, /^(Peer|Api|Voting)(,(Peer|Api|Voting))*$/);
          assert.equal(peer.metadata.roles.includes('Api'), peer.endpoint.api_port !== undefined);
          if (kind === 'api') assert.ok(peer.metadata.roles.includes('Api'), `${peer.metadata.name} is an Api node`);
        }
        const file = JSON.parse(formatPeersFile(kind, peers)) as { knownPeers: unknown[] };
        assert.equal(file.knownPeers.length, peers.length);
      }
    }
  });
});
