/**
 * A stand-in for a network's nodewatch service (symbol/product explorer/nodewatch): a local HTTP server that
 * answers `GET <base>/api/symbol/nodes/peer` and `/api/symbol/nodes/api` with node lists in nodewatch's JSON
 * (NodeDescriptor.to_json: every field nodewatch sends, not only the ones the operator reads). The nodes are
 * made up; the shapes and the endpoint rules are nodewatch's: `http://host:7900` for a peer-only node,
 * `http://host:3000` for an API node, `https://host:3001` with TLS, '' when the crawler saw no host.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NodewatchJsonNode {
  mainPublicKey: string;
  nodePublicKey: string | null;
  endpoint: string;
  name: string;
  version: string;
  height: number;
  finalizedHeight: number;
  balance: number;
  finalizedEpoch: number;
  finalizedHash: string | null;
  finalizedPoint: number;
  isHealthy: boolean | null;
  isSslEnabled: boolean | null;
  restVersion: string | null;
  geoLocation: Record<string, unknown> | null;
  roles: number;
}

const hex = (seed: number) => createHash('sha256').update(`stand-in ${seed}`).digest('hex').toUpperCase();

/** A node as nodewatch lists it. */
export function nodewatchNode(index: number, options: { roles: number; endpoint: string; balance?: number }) {
  const api = (options.roles & 2) !== 0;
  const node: NodewatchJsonNode = {
    mainPublicKey: hex(index + 1),
    nodePublicKey: hex(index + 101),
    endpoint: options.endpoint,
    name: `stand-in node ${index}`,
    version: '1.0.3.8',
    height: 2_345_678 + index,
    finalizedHeight: 2_345_600,
    balance: options.balance ?? 1000 + index,
    finalizedEpoch: 3258,
    finalizedHash: hex(index + 201),
    finalizedPoint: 12,
    isHealthy: api ? true : null,
    isSslEnabled: api ? options.endpoint.startsWith('https') : null,
    restVersion: api ? '2.5.1' : null,
    geoLocation: { continent: 'Europe', country: 'Germany', city: 'Frankfurt', lat: 50.11, lon: 8.68 },
    roles: options.roles,
  };
  return node;
}

/**
 * 24 peer-list nodes (more than shoestring's 20): peer-only, dual with and without TLS, one without endpoint;
 * 3 api-list nodes (roles exactly 2, as nodewatch's `/nodes/api` filters), one without endpoint.
 */
export function standInNodeLists(): { peer: NodewatchJsonNode[]; api: NodewatchJsonNode[] } {
  const peer: NodewatchJsonNode[] = [];
  for (let i = 0; i < 24; i += 1) {
    if (i === 5) peer.push(nodewatchNode(i, { roles: 5, endpoint: '' }));
    else if (i % 3 === 0) peer.push(nodewatchNode(i, { roles: 7, endpoint: `https://dual-${i}.example.org:3001` }));
    else if (i % 3 === 1) peer.push(nodewatchNode(i, { roles: 3, endpoint: `http://dual-${i}.example.org:3000` }));
    else peer.push(nodewatchNode(i, { roles: 5, endpoint: `http://peer-${i}.example.org:7900` }));
  }
  const api = [
    nodewatchNode(50, { roles: 2, endpoint: 'http://api-50.example.org:3000' }),
    nodewatchNode(51, { roles: 2, endpoint: 'https://api-51.example.org:3001' }),
    nodewatchNode(52, { roles: 2, endpoint: '' }),
  ];
  return { peer, api };
}

export interface NodewatchStandIn {
  /** What a shoestring.ini `[services] nodewatch` would say, e.g. `http://127.0.0.1:PORT/testnet`. */
  url: string;
  /** Paths asked, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1 under `/testnet` (as the sai nodewatch URL has a path). */
export async function startNodewatchStandIn(
  lists: { peer: NodewatchJsonNode[]; api: NodewatchJsonNode[] } = standInNodeLists(),
): Promise<NodewatchStandIn> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const body =
      request.url === '/testnet/api/symbol/nodes/peer'
        ? lists.peer
        : request.url === '/testnet/api/symbol/nodes/api'
          ? lists.api
          : undefined;
    if (!body) {
      response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/testnet`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
