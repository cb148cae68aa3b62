/**
 * Finds a node's starting peers (symbol/peers.ts): `spec.peers` when given, else the network's nodewatch service
 * (the `[services] nodewatch` URL of the package's shoestring.ini, as shoestring's setup asks it), else the
 * operator's pinned list for the mainnet and sai presets, else none — which the provisioning reports as
 * NoKnownPeers.
 *
 * nodewatch is an optional convenience, not a dependency: many clusters cannot reach the internet. So each
 * request has a short timeout, a failure is not logged or retried, and answers are cached per URL (success for
 * a while, failure briefly) so that a burst of new nodes asks once and a cluster without internet access waits
 * at most one timeout now and then.
 */
import { isApiRole, type ParsedSymbolNode, type PeerSpec } from '../k8s/symbolNode.js';
import {
  isNetworkPresetName,
  NODEWATCH_PATHS,
  parseNodewatchNodes,
  peersFromNodewatch,
  PINNED_PEERS,
  type NetworkPackage,
  type NodewatchNode,
  type PeerEntry,
} from '../symbol/index.js';

export interface NodewatchClientOptions {
  /** Per request. nodewatch answers in well under a second when it is reachable at all. */
  readonly timeoutMs?: number;
  /** How long an answer is reused (nodewatch itself refreshes every 5 minutes). */
  readonly answerTtlMs?: number;
  /** How long a failure is remembered before nodewatch is asked again. */
  readonly failureTtlMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export type NodewatchAnswer = { ok: true; nodes: NodewatchNode[] } | { ok: false; error: string };

/** nodewatch's node lists are a few hundred KB for mainnet; anything far bigger is not nodewatch. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

function describeFetchError(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}

/** GETs nodewatch node lists, quietly and briefly; never throws. */
export class NodewatchClient {
  private readonly cache = new Map<string, { until: number; answer: Promise<NodewatchAnswer> }>();
  private readonly timeoutMs: number;
  private readonly answerTtlMs: number;
  private readonly failureTtlMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: NodewatchClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.answerTtlMs = options.answerTtlMs ?? 10 * 60_000;
    this.failureTtlMs = options.failureTtlMs ?? 60_000;
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** `<base>/<path>`: shoestring joins them with one slash, whatever the base ends with. */
  static url(base: string, path: string): string {
    return `${base.replace(/\/+$/, '')}/${path}`;
  }

  nodes(base: string, list: keyof typeof NODEWATCH_PATHS): Promise<NodewatchAnswer> {
    const url = NodewatchClient.url(base, NODEWATCH_PATHS[list]);
    const now = Date.now();
    const cached = this.cache.get(url);
    if (cached && cached.until > now) return cached.answer;
    const entry = { until: now + this.timeoutMs + this.answerTtlMs, answer: this.get(url) };
    this.cache.set(url, entry);
    void entry.answer.then((answer) => {
      if (!answer.ok) entry.until = Date.now() + this.failureTtlMs;
    });
    return entry.answer;
  }

  private async get(url: string): Promise<NodewatchAnswer> {
    try {
      const response = await this.fetchFn(url, {
        headers: { accept: 'application/json' },
        redirect: 'follow',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) return { ok: false, error: `HTTP ${response.status}` };
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > MAX_ANSWER_BYTES) return { ok: false, error: `answer of ${declared} bytes is too large` };
      const text = await response.text();
      if (text.length > MAX_ANSWER_BYTES) return { ok: false, error: 'answer too large' };
      return { ok: true, nodes: parseNodewatchNodes(JSON.parse(text) as unknown, url) };
    } catch (error) {
      return { ok: false, error: describeFetchError(error) };
    }
  }
}

export type PeerListSource = 'spec' | 'nodewatch' | 'pinned' | 'none';

export interface StartingPeers {
  readonly p2p: readonly PeerEntry[];
  /** Only for full API nodes (peers-api.json). */
  readonly api?: readonly PeerEntry[];
  readonly sources: { readonly p2p: PeerListSource; readonly api?: PeerListSource };
  /** One line for the SymbolNode's condition: how many peers, from where, and why not from nodewatch. */
  readonly summary: string;
}

function fromSpec(peers: readonly PeerSpec[]): PeerEntry[] {
  return peers.map((peer) => ({
    publicKey: peer.publicKey.toUpperCase(),
    endpoint: { host: peer.host, port: peer.port, ...(peer.apiPort !== undefined ? { api_port: peer.apiPort } : {}) },
    metadata: { name: peer.name, roles: peer.roles },
  }));
}

function describeSource(source: PeerListSource, network: string, nodewatch: string | undefined): string {
  switch (source) {
    case 'spec':
      return 'spec.peers';
    case 'nodewatch':
      return `nodewatch ${nodewatch}`;
    case 'pinned':
      return `the operator's pinned ${network} list`;
    case 'none':
      return 'nowhere';
  }
}

/**
 * The node's starting peers, each list from the first source that has any: spec.peers, nodewatch, the pinned
 * preset list. Never throws for nodewatch trouble; the summary says what happened.
 */
export async function findStartingPeers(
  node: ParsedSymbolNode,
  pkg: NetworkPackage,
  nodewatch: NodewatchClient,
): Promise<StartingPeers> {
  const fullApi = isApiRole(node.spec.role);
  const network = node.spec.network;
  const pinned = isNetworkPresetName(network) ? PINNED_PEERS[network] : undefined;
  const specP2p = node.spec.peers?.p2p;
  const specApi = fullApi ? node.spec.peers?.api : undefined;
  const nodewatchUrl = pkg.shoestring.services.nodewatch;

  const needNodewatch = specP2p === undefined || (fullApi && specApi === undefined);
  let fromNodewatch: { p2p: readonly PeerEntry[]; api: readonly PeerEntry[] } | undefined;
  /** Why nodewatch gave no list, when it did not. */
  let nodewatchNote: string | undefined;
  if (needNodewatch) {
    if (nodewatchUrl === undefined) {
      nodewatchNote = 'the network package names no nodewatch';
    } else if (!/^https?:\/\//i.test(nodewatchUrl)) {
      nodewatchNote = `nodewatch ${nodewatchUrl} is not an http(s) URL`;
    } else {
      // shoestring asks for the peer nodes always, and adds the api nodes for a full API node's peers-api.json.
      const [peer, api] = await Promise.all([
        nodewatch.nodes(nodewatchUrl, 'peer'),
        fullApi && specApi === undefined ? nodewatch.nodes(nodewatchUrl, 'api') : undefined,
      ]);
      if (peer.ok) {
        fromNodewatch = peersFromNodewatch(
          { peer: peer.nodes, ...(api?.ok ? { api: api.nodes } : {}) },
          { seed: `${node.metadata.namespace}/${node.metadata.name}` },
        );
      }
      const failed = !peer.ok ? peer : api && !api.ok ? api : undefined;
      nodewatchNote = `nodewatch ${nodewatchUrl} ${failed ? `failed: ${failed.error}` : 'listed no eligible node'}`;
    }
  }

  const choose = (
    specList: readonly PeerSpec[] | undefined,
    nodewatchList: readonly PeerEntry[] | undefined,
    pinnedList: readonly PeerEntry[] | undefined,
  ): { peers: readonly PeerEntry[]; source: PeerListSource } => {
    if (specList !== undefined) return { peers: fromSpec(specList), source: 'spec' };
    if (nodewatchList !== undefined && nodewatchList.length > 0) return { peers: nodewatchList, source: 'nodewatch' };
    if (pinnedList !== undefined && pinnedList.length > 0) return { peers: pinnedList, source: 'pinned' };
    return { peers: [], source: 'none' };
  };
  const p2p = choose(specP2p, fromNodewatch?.p2p, pinned?.p2p);
  const api = fullApi ? choose(specApi, fromNodewatch?.api, pinned?.api) : undefined;

  const parts = [`${p2p.peers.length} p2p from ${describeSource(p2p.source, network, nodewatchUrl)}`];
  if (api) parts.push(`${api.peers.length} api from ${describeSource(api.source, network, nodewatchUrl)}`);
  const fellBack = [p2p, api].some((list) => list?.source === 'pinned' || list?.source === 'none');
  const summary = parts.join(', ') + (fellBack && nodewatchNote ? ` (${nodewatchNote})` : '');
  return {
    p2p: p2p.peers,
    ...(api ? { api: api.peers } : {}),
    sources: { p2p: p2p.source, ...(api ? { api: api.source } : {}) },
    summary,
  };
}
