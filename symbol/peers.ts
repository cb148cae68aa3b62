/**
 * Where a node's starting peers (`peers-p2p.json`, `peers-api.json`) come from. catapult takes its first peers only
 * from these files and starts without complaint when they are empty: such a node connects to nobody and never
 * syncs. Pure code: the caller fetches nodewatch and passes its JSON here.
 *
 * shoestring 0.2.3 (`internal/PeerDownloader.py`, `NodeDownloader.py`) fills the files at setup from the network's
 * nodewatch (`[services] nodewatch` of shoestring.ini): `GET <nodewatch>/api/symbol/nodes/peer` for peers-p2p.json,
 * and for a full API node also `/api/symbol/nodes/api`, whose nodes are added to the peer nodes before the Api ones
 * are picked for peers-api.json. A node is eligible when it has an endpoint (`http[s]://host:port`), a balance
 * ≥ 0 and the role bit (1 Peer, 2 Api); its peer port is always 7900, and Api nodes carry `api_port` (the REST
 * port of the endpoint). shoestring shuffles the eligible nodes and keeps 20.
 *
 * Deliberate deviation: the 20 are chosen by rendezvous hashing on the node's own identity instead of at random,
 * so rendering the same node again gives the same peers (a changed peer list rolls the pod), different nodes
 * still spread over the network, and a node that leaves nodewatch replaces only its own slot.
 */
import { createHash } from 'node:crypto';

import type { NetworkPresetName } from './networkPackage.js';
import type { PeerEntry } from './nodeConfig.js';

export interface PeerLists {
  readonly p2p: readonly PeerEntry[];
  readonly api: readonly PeerEntry[];
}

/** shoestring's `max_output_nodes` for the peer files. */
export const NODEWATCH_MAX_PEERS = 20;
/** Paths below the nodewatch URL of the package (shoestring's NodeDownloader). */
export const NODEWATCH_PATHS = { peer: 'api/symbol/nodes/peer', api: 'api/symbol/nodes/api' } as const;

const ROLE_PEER = 0x01;
const ROLE_API = 0x02;
/** catapult's NodeRoles bits, named as shoestring's `_stringify_roles` names them. */
const ROLE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x01, 'Peer'],
  [0x02, 'Api'],
  [0x04, 'Voting'],
  [0x40, 'IPv4'],
  [0x80, 'IPv6'],
];
const PEER_PORT = 7900;

/** One node of nodewatch's `/api/symbol/nodes/{peer,api}` answer (explorer/nodewatch NodeDescriptor.to_json). */
export interface NodewatchNode {
  readonly mainPublicKey: string;
  /** `http://host:3000`, `https://host:3001`, `http://host:7900` for a peer-only node, or '' when unknown. */
  readonly endpoint: string;
  readonly name: string;
  readonly roles: number;
  readonly balance: number;
}

export class NodewatchAnswerError extends Error {
  override readonly name = 'NodewatchAnswerError';
}

const HEX_KEY = /^[0-9A-Fa-f]{64}$/;
const ENDPOINT = /^https?:\/\/(.*):(\d+)$/;

/**
 * Reads one nodewatch node list. Entries that shoestring could not use either (no 64-hex-digit key, roles not a
 * number) are skipped; an answer that is not a JSON array throws NodewatchAnswerError.
 */
export function parseNodewatchNodes(json: unknown, origin: string): NodewatchNode[] {
  if (!Array.isArray(json)) throw new NodewatchAnswerError(`${origin} did not answer with a JSON array`);
  const nodes: NodewatchNode[] = [];
  for (const entry of json as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    if (typeof e.mainPublicKey !== 'string' || !HEX_KEY.test(e.mainPublicKey)) continue;
    if (typeof e.roles !== 'number' || !Number.isInteger(e.roles)) continue;
    nodes.push({
      mainPublicKey: e.mainPublicKey.toUpperCase(),
      endpoint: typeof e.endpoint === 'string' ? e.endpoint : '',
      name: typeof e.name === 'string' ? e.name : '',
      roles: e.roles,
      balance: typeof e.balance === 'number' ? e.balance : 0,
    });
  }
  return nodes;
}

export function rolesString(roles: number): string {
  return ROLE_NAMES.filter(([bit]) => (roles & bit) !== 0)
    .map(([, name]) => name)
    .join(',');
}

/** shoestring's `_map_node_to_peers_format`; undefined when the endpoint has no host and port. */
function toPeerEntry(node: NodewatchNode): PeerEntry | undefined {
  const match = ENDPOINT.exec(node.endpoint);
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const api = (node.roles & ROLE_API) !== 0;
  return {
    publicKey: node.mainPublicKey,
    endpoint: { host, port: PEER_PORT, ...(api ? { api_port: port } : {}) },
    metadata: { name: node.name, roles: rolesString(node.roles) },
  };
}

/** Rendezvous score: each (node, candidate) pair gets a stable pseudo-random rank. */
function score(seed: string, publicKey: string): string {
  return createHash('sha256').update(`${seed}\n${publicKey}`).digest('hex');
}

/**
 * Up to `max` eligible nodes with the role bit, one per public key, ranked by rendezvous hashing on `seed` (the
 * node's own identity, e.g. `<namespace>/<name>`). `exclude` drops keys (the node itself).
 */
export function selectNodewatchPeers(
  nodes: readonly NodewatchNode[],
  role: 'p2p' | 'api',
  options: { seed: string; max?: number; exclude?: readonly string[] },
): PeerEntry[] {
  const bit = role === 'p2p' ? ROLE_PEER : ROLE_API;
  const excluded = new Set((options.exclude ?? []).map((key) => key.toUpperCase()));
  const byKey = new Map<string, PeerEntry>();
  for (const node of nodes) {
    if ((node.roles & bit) === 0 || node.balance < 0 || excluded.has(node.mainPublicKey)) continue;
    const entry = toPeerEntry(node);
    if (entry && !byKey.has(entry.publicKey)) byKey.set(entry.publicKey, entry);
  }
  return [...byKey.values()]
    .map((entry) => ({ entry, rank: score(options.seed, entry.publicKey) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, options.max ?? NODEWATCH_MAX_PEERS)
    .map(({ entry }) => entry);
}

/**
 * Both lists from nodewatch's answers, as shoestring builds them: p2p from the peer nodes; api from the peer and
 * the api nodes together (only asked for full API nodes).
 */
export function peersFromNodewatch(
  answers: { readonly peer: readonly NodewatchNode[]; readonly api?: readonly NodewatchNode[] },
  options: { seed: string; exclude?: readonly string[] },
): PeerLists {
  return {
    p2p: selectNodewatchPeers(answers.peer, 'p2p', options),
    api: answers.api ? selectNodewatchPeers([...answers.peer, ...answers.api], 'api', options) : [],
  };
}

const sai = (id: string, publicKey: string, roles: string): PeerEntry => ({
  publicKey,
  endpoint: {
    host: `${id}.symboltest.net`,
    port: PEER_PORT,
    ...(roles.includes('Api') ? { api_port: 3001 } : {}),
  },
  metadata: { name: id, roles },
});

const ngl = (id: string, publicKey: string, roles: string): PeerEntry => ({
  publicKey,
  endpoint: {
    host: `${id}.symbolblockchain.io`,
    port: PEER_PORT,
    ...(roles.includes('Api') ? { api_port: 3000 } : {}),
  },
  metadata: { name: id, roles },
});

const SAI_PEERS: readonly PeerEntry[] = [
  sai('001-sai-dual', '07D38BAE29464C1F54CC1C8202DD83B65AF21C8E5FF1FB01ACEEE2243C55EF2A', 'Peer,Api,Voting'),
  sai('101-sai-peer', 'E29CD799B119BB28ACEB643F603CAF0558ABF33DD6D95C65ECA7F0E64C2CC47F', 'Peer,Voting'),
  sai('201-sai-dual', '645E2E56B5F8680B69BC0255F4930169DBC052BB25F8121055DE2072D37E2C30', 'Peer,Api'),
  sai('301-sai-peer', 'D01EA831B8736A8F97868C261246EA49215A007FE3542426DBA187183D56313B', 'Peer,Voting'),
  sai('401-sai-dual', 'C1773740461C97FF172E966213716E089A93DC43F10BE55DC27CC49CBA67E692', 'Peer,Api,Voting'),
];

const MAINNET_DUAL: readonly PeerEntry[] = [
  ngl('ngl-dual-001', 'C7BEA9036ECFA79CB081184CFA0E524E7D567A5127C55360D9FF1D2FC1AC4FDD', 'Peer,Api,Voting'),
  ngl('ngl-dual-101', '6E81088A2E2504C4F91E3DC9C2517FAB99574D71EF5D9F74031FB394CCA7AF3B', 'Peer,Api,Voting'),
  ngl('ngl-dual-201', '7E1101CFD5E64D6CA4A55B70E24412365BD1658E767F23AF9E9777410C116D89', 'Peer,Api,Voting'),
  ngl('ngl-dual-301', '92D05B749D6300C4CDCD13A58BF37B7C82B471AB2DFD1A7A6E8C1584620594CA', 'Peer,Api,Voting'),
  ngl('ngl-dual-401', '9D50238B795818044CB330DC5FBA485C7B20EBD38E1A7DBE248555AD70AB4F19', 'Peer,Api,Voting'),
  ngl('ngl-dual-501', '606BF668BBD9EA1AFCD9E37A2C18C05BE39CC00752AAD99A0E22A79071CCAA7D', 'Peer,Api,Voting'),
  ngl('ngl-dual-601', '90009F2C2D396A6B788D6DBAB8F075CB20549A50BBA5259D382618FD86F1419A', 'Peer,Api,Voting'),
];

const MAINNET_BEACONS: readonly PeerEntry[] = [
  ngl('ngl-beacon-001', 'FA9F3974FE3B15585E6B72672C7D8BEAE27D1EDF6C4752BAFDB8B2FEA601C0CF', 'Peer,Voting'),
  ngl('ngl-beacon-101', 'AFF16052217A847A6A71B326FEA9073CFF70D07FC5BA9026B3E05FB453C950DF', 'Peer,Voting'),
  ngl('ngl-beacon-201', 'D237B4C5964183141868F90ABEF557F751FFB973E7CFF59CCC1B00C504E048F0', 'Peer,Voting'),
  ngl('ngl-beacon-301', '78480D48CC2AA6988E2FD05C884EE0525ACF6DC78766492034EA08CC1ADF788C', 'Peer,Voting'),
  ngl('ngl-beacon-401', '9261DB223A28A3DB05315235DF2186260951B66515B17A6B890BBCE3EE9E3FE7', 'Peer,Voting'),
  ngl('ngl-beacon-501', 'B1B60E982CF0DE72584BED82EDCFAF5F187D24B21DECFA814F69605B5DE4A7C1', 'Peer,Voting'),
  ngl('ngl-beacon-601', '9785B471C23994341159DB2E66853F6B0EAEA1E6E2A838A020965F4B8E29D03A', 'Peer,Voting'),
];

/**
 * Used when nodewatch cannot be reached (no internet from the operator, nodewatch down). Real public nodes, with
 * the identity (main public key) catapult checks against the certificate chain they present; roles are written
 * in shoestring's order:
 * - sai: `presets/testnet/network.yml` `knownPeers` of the npm package symbol-bootstrap@1.1.10 ("Symbol Sainet
 *   Network", nemesis generation hash seed 49D6E1CE…, the sai package's), all five; `api_port` 3001 from the same
 *   file's `knownRestGateways` (https://<host>:3001 for the three Api nodes).
 * - mainnet: `presets/mainnet/network.yml` `knownPeers` of the npm package symbol-bootstrap@1.0.4 (March 2021), the
 *   newest published list (from 1.1.0 on, bootstrap asks a statistics service instead and ships `knownPeers: []`;
 *   the same list is in the fboucquez/symbol-bootstrap repository up to commit 9c199f63, October 2021): the NEM
 *   Group nodes numbered x01 in each of the seven regions, dual and beacon; `api_port` 3000 from its
 *   knownRestGateways. These may have moved since: nodewatch is always tried first, and `spec.peers` overrides
 *   both.
 */
export const PINNED_PEERS: Readonly<Record<NetworkPresetName, PeerLists>> = {
  sai: {
    p2p: SAI_PEERS,
    api: SAI_PEERS.filter((peer) => peer.metadata.roles.split(',').includes('Api')),
  },
  mainnet: {
    p2p: [...MAINNET_DUAL, ...MAINNET_BEACONS],
    api: MAINNET_DUAL,
  },
};
