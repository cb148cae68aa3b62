/**
 * The catapult configuration one node needs, generated from a network package the way shoestring 0.2.3 `setup`
 * does it (`internal/Preparer.py` `prepare_resources`/`configure_resources`/`configure_rest`,
 * `HarvesterConfigurator`, `VoterConfigurator`, `PeerDownloader`), adapted to a Kubernetes pod.
 *
 * Deliberate deviations from shoestring, all because every container of a node runs in one pod and talks over
 * loopback instead of a docker-compose network (service names `db`/`client`/`broker`, REST at 172.20.0.25):
 *  1. Any API node: `trustedHosts`/`localNetworks` stay `127.0.0.1` (shoestring adds `172.20.0.25` / `172.20`).
 *  2. Full API: `config-database.properties` `databaseUri` is `mongodb://127.0.0.1:27017` (shoestring keeps `db`).
 *  3. `rest.json`: `db.url`, `apiNode.host` and `websocket.mq.host` point at 127.0.0.1 (shoestring: db/client/broker);
 *     the file is re-serialized (tab indent) instead of copied byte for byte.
 *  4. Edited `.properties` keep the template's formatting; shoestring rewrites every line of an edited file stripped of
 *     surrounding whitespace (e.g. `version = ` becomes `version =`). Values are the same.
 *  5. Peer lists come from the caller (symbol/peers.ts: the spec, nodewatch or a pinned list; shoestring downloads up
 *     to 20 random nodes from nodewatch); the file format and ordering are shoestring's. Unknown override keys throw
 *     (shoestring silently ignores them).
 *  6. `config-user.properties` paths are set explicitly to `CONTAINER_PATHS` (shoestring relies on the template,
 *     which has the same values), so a package with other paths cannot break the volume layout.
 *  7. `config-node.properties [node] enableAddressReuse = true` (the sai package says false): the kubelet restarts a
 *     crashed server in place, in the pod's network namespace, where the previous process's connections on port
 *     7900 may still be in TIME-WAIT; without SO_REUSEADDR the new listener fails with `bind: Address already in
 *     use` and aborts (seen on this project's first real run). catapult sets it only on its listening acceptor
 *     (net/AsyncTcpServer.cpp); on Linux SO_REUSEADDR never lets a second process listen on a port that has a
 *     listener, and the pod's network namespace is its own, so nothing else can take the port.
 * Not produced here (they belong to the Kubernetes manifests): docker-compose files, startup scripts, mongo/ init
 * scripts (see `NetworkPackage.list('mongo/')`), seed/, the HTTPS proxy.
 */
import { isIP } from 'node:net';

import { PrivateKeySecret, symbolNetwork } from './keys.js';
import { NetworkPackage, NetworkPackageError } from './networkPackage.js';
import { PropertiesDocument, type PropertyValue } from './properties.js';

/**
 * The node's software, in shoestring's terms (the SymbolNode roles `api` and `dual` are both
 * `full-api`; they differ only in whether harvesting and voting are allowed):
 * - `peer`: shoestring PEER: catapult server only.
 * - `light-api`: shoestring API with `lightApi = true`: server plus the light REST gateway, which reads the
 *   server directly; no broker, no MongoDB; roles stay `Peer` (as shoestring does).
 * - `full-api`: shoestring API (full): server, broker, MongoDB and REST; roles `Peer,Api`.
 */
export type NodeRole = 'peer' | 'light-api' | 'full-api';
export const NODE_ROLES: readonly NodeRole[] = ['peer', 'light-api', 'full-api'];

/** Mount points inside the catapult/REST containers; `config-user.properties` and rest.json refer to them. */
export const CONTAINER_PATHS = {
  /** catapult.{server,broker,recovery} take this directory as argument; it holds `resources/`. */
  userconfig: '/userconfig',
  resources: '/userconfig/resources',
  restConfig: '/userconfig/rest.json',
  certificates: '/certificates',
  data: '/data',
  seed: '/seed',
  votingKeys: '/votingkeys',
  logs: '/logs',
  plugins: '/usr/catapult/lib',
} as const;

const PEER_PROPERTIES = [
  'extensions-recovery',
  'extensions-server',
  'finalization',
  'inflation',
  'logging-recovery',
  'logging-server',
  'network',
  'node',
  'task',
  'timesync',
  'user',
];
const FULL_API_PROPERTIES = ['database', 'extensions-broker', 'logging-broker', 'messaging', 'pt'];
const HARVESTER_PROPERTIES = ['harvesting'];

const resourcePath = (name: string): string => `resources/config-${name}.properties`;

/** Files that carry private keys in clear: they go into a Secret, not a ConfigMap. */
export const SECRET_CONFIG_FILES: ReadonlySet<string> = new Set([resourcePath('harvesting')]);

export interface RoleOptions {
  readonly harvester: boolean;
}

/** Paths (relative to `/userconfig`) that `buildNodeConfig` produces for a role, sorted. */
export function configFilesForRole(role: NodeRole, options: RoleOptions): string[] {
  const files = PEER_PROPERTIES.map(resourcePath);
  if (role === 'full-api') files.push(...FULL_API_PROPERTIES.map(resourcePath), 'resources/peers-api.json');
  if (options.harvester) files.push(...HARVESTER_PROPERTIES.map(resourcePath));
  files.push('resources/peers-p2p.json');
  if (role !== 'peer') files.push('rest.json');
  return files.sort();
}

/** One entry of `peers-p2p.json` / `peers-api.json`, in shoestring's `NodeDownloader` shape. */
export interface PeerEntry {
  readonly publicKey: string;
  readonly endpoint: { readonly host: string; readonly port: number; readonly api_port?: number };
  readonly metadata: { readonly name: string; readonly roles: string };
}

export interface HarvestingSettings {
  /** Remote account key (`harvesterSigningPrivateKey`). */
  readonly signingKey: PrivateKeySecret;
  readonly vrfKey: PrivateKeySecret;
  readonly beneficiaryAddress?: string;
  readonly maxUnlockedAccounts?: number;
}

/** Like shoestring's overrides file section `[<file>.<section>]`; `file` is e.g. `node` or `config-node.properties`. */
export interface PropertyOverride {
  readonly file: string;
  readonly section: string;
  readonly key: string;
  readonly value: PropertyValue;
}

export interface NodeSettings {
  readonly role: NodeRole;
  readonly harvester: boolean;
  readonly voter: boolean;
  /** Public DNS name or IP other nodes use to reach port 7900. */
  readonly host: string;
  readonly friendlyName: string;
  /** Required when `harvester` is true. */
  readonly harvesting?: HarvestingSettings;
  readonly peers?: { readonly p2p?: readonly PeerEntry[]; readonly api?: readonly PeerEntry[] };
  /** Applied last, as shoestring applies its overrides file last; keys must exist in the template. */
  readonly overrides?: readonly PropertyOverride[];
  /** Deep-merged into rest.json (shoestring `--rest-overrides`), e.g. `{ nodeMetadata: {...} }`. */
  readonly restOverrides?: Readonly<Record<string, unknown>>;
}

export class NodeConfigError extends Error {
  override readonly name = 'NodeConfigError';
}

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const LOOPBACK = '127.0.0.1';

function validateSettings(pkg: NetworkPackage, settings: NodeSettings): void {
  if (!NODE_ROLES.includes(settings.role))
    throw new NodeConfigError(`role must be one of ${NODE_ROLES.join(', ')}, got ${String(settings.role)}`);
  if (!HOSTNAME.test(settings.host) && isIP(settings.host) === 0) {
    throw new NodeConfigError(`host ${JSON.stringify(settings.host)} is neither a DNS name nor an IP address`);
  }
  // catapult serializes the friendly name with a one-byte length
  const friendlyNameBytes = Buffer.byteLength(settings.friendlyName, 'utf8');
  if (friendlyNameBytes === 0 || friendlyNameBytes > 255)
    throw new NodeConfigError(`friendlyName must be 1-255 UTF-8 bytes, got ${friendlyNameBytes}`);
  if (settings.harvester !== Boolean(settings.harvesting)) {
    throw new NodeConfigError(
      settings.harvester
        ? 'harvester is set but harvesting keys are missing'
        : 'harvesting keys given but harvester is false',
    );
  }
  const harvesting = settings.harvesting;
  if (harvesting?.beneficiaryAddress !== undefined) {
    const network = symbolNetwork(pkg.shoestring.network);
    if (!network.isValidAddressString(harvesting.beneficiaryAddress)) {
      throw new NodeConfigError(`beneficiaryAddress is not a valid ${pkg.shoestring.network.name} address`);
    }
  }
  const max = harvesting?.maxUnlockedAccounts;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1))
    throw new NodeConfigError('maxUnlockedAccounts must be a positive integer');
  if (settings.role !== 'full-api' && settings.peers?.api?.length)
    throw new NodeConfigError('peers.api is only written for full API (dual) nodes');
}

/** Roles advertised in `[localnode] roles`, as shoestring computes them. */
export function nodeRolesString(settings: Pick<NodeSettings, 'role' | 'voter'>): string {
  const roles = settings.role === 'full-api' ? ['Peer', 'Api'] : ['Peer'];
  if (settings.voter) roles.push('Voting');
  return roles.join(',');
}

/** Python `json.dump(..., indent=2)` output: ensure_ascii escapes everything outside printable ASCII. */
function pythonJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[^\x20-\x7e\n]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `peers-<kind>.json` exactly as shoestring's `_save_peers_file` writes it (sorted by public key). */
export function formatPeersFile(kind: 'p2p' | 'api', peers: readonly PeerEntry[]): string {
  const knownPeers = peers
    .map((peer) => {
      if (!/^[0-9A-Fa-f]{64}$/.test(peer.publicKey))
        throw new NodeConfigError(`peer public key ${JSON.stringify(peer.publicKey)} is not 64 hex digits`);
      for (const port of [peer.endpoint.port, peer.endpoint.api_port ?? 1]) {
        if (!Number.isInteger(port) || port < 1 || port > 65535)
          throw new NodeConfigError(`peer port ${port} is not a TCP port`);
      }
      const endpoint: Record<string, unknown> = { host: peer.endpoint.host, port: peer.endpoint.port };
      if (peer.endpoint.api_port !== undefined) endpoint.api_port = peer.endpoint.api_port;
      return {
        publicKey: peer.publicKey,
        endpoint,
        metadata: { name: peer.metadata.name, roles: peer.metadata.roles },
      };
    })
    // plain comparison, as Python's sort (localeCompare would order differently); keys are ASCII hex
    .sort((a, b) => (a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0));
  return pythonJson({ knownPeers, _info: `this file contains a list of ${kind} peers and can be shared` });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** shoestring's `merge_json_configuration`: objects merge recursively, everything else replaces. */
function mergeJson(target: Record<string, unknown>, overrides: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(overrides)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw new NodeConfigError(`REST override key "${key}" is not allowed`);
    }
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) mergeJson(current, value);
    else target[key] = structuredClone(value);
  }
}

function buildRestJson(pkg: NetworkPackage, settings: NodeSettings): string {
  const template = settings.role === 'full-api' ? 'rest/rest.json' : 'rest/rest-light.json';
  let rest: unknown;
  try {
    rest = JSON.parse(pkg.text(template));
  } catch (error) {
    if (error instanceof NetworkPackageError) throw error;
    throw new NetworkPackageError('MissingFile', `${pkg.origin}: ${template} is not valid JSON`);
  }
  if (!isPlainObject(rest) || !isPlainObject(rest.apiNode))
    throw new NetworkPackageError('MissingFile', `${pkg.origin}: ${template} has no apiNode object`);
  // deviation 3: one pod, so server, broker and MongoDB are on loopback
  rest.apiNode.host = LOOPBACK;
  if (isPlainObject(rest.db) && typeof rest.db.url === 'string') rest.db.url = `mongodb://${LOOPBACK}:27017/`;
  if (isPlainObject(rest.websocket) && isPlainObject(rest.websocket.mq)) rest.websocket.mq.host = LOOPBACK;
  if (settings.restOverrides) mergeJson(rest, settings.restOverrides);
  return JSON.stringify(rest, null, '\t') + '\n';
}

function normalizeOverrideFile(file: string): string {
  const name = file.replace(/^config-/, '').replace(/\.properties$/, '');
  return resourcePath(name);
}

/**
 * All files for `/userconfig` of one node: `resources/*.properties`, `resources/peers-*.json` and, for API roles,
 * `rest.json`. Keys are relative paths; `SECRET_CONFIG_FILES` says which values hold private keys.
 */
export function buildNodeConfig(pkg: NetworkPackage, settings: NodeSettings): Map<string, string | Uint8Array> {
  validateSettings(pkg, settings);
  const names = configFilesForRole(settings.role, settings).filter((path) => path.endsWith('.properties'));
  const documents = new Map<string, PropertiesDocument>(names.map((path) => [path, pkg.properties(path)]));
  const edit = (name: string, section: string, key: string, value: PropertyValue): void => {
    const document = documents.get(resourcePath(name));
    if (!document)
      throw new NodeConfigError(`config-${name}.properties is not part of a ${settings.role} node's configuration`);
    document.set(section, key, value);
  };

  if (settings.role !== 'peer') {
    // deviation 1: REST reaches the server over loopback, no docker network address to trust
    edit('node', 'node', 'trustedHosts', LOOPBACK);
    edit('node', 'node', 'localNetworks', LOOPBACK);
  }
  if (settings.role === 'full-api') {
    edit('extensions-server', 'extensions', 'extension.filespooling', true);
    edit('extensions-server', 'extensions', 'extension.partialtransaction', true);
    edit('extensions-recovery', 'extensions', 'extension.addressextraction', true);
    edit('extensions-recovery', 'extensions', 'extension.mongo', true);
    edit('extensions-recovery', 'extensions', 'extension.zeromq', true);
    edit('node', 'node', 'enableAutoSyncCleanup', false);
    // deviation 2
    edit('database', 'database', 'databaseUri', `mongodb://${LOOPBACK}:27017`);
  }
  if (settings.harvesting) {
    edit('harvesting', 'harvesting', 'enableAutoHarvesting', true);
    edit('harvesting', 'harvesting', 'harvesterSigningPrivateKey', settings.harvesting.signingKey.revealHex());
    edit('harvesting', 'harvesting', 'harvesterVrfPrivateKey', settings.harvesting.vrfKey.revealHex());
    if (settings.harvesting.beneficiaryAddress !== undefined)
      edit('harvesting', 'harvesting', 'beneficiaryAddress', settings.harvesting.beneficiaryAddress);
    if (settings.harvesting.maxUnlockedAccounts !== undefined)
      edit('harvesting', 'harvesting', 'maxUnlockedAccounts', settings.harvesting.maxUnlockedAccounts);
  } else {
    edit('extensions-server', 'extensions', 'extension.harvesting', false);
  }
  if (settings.voter) {
    edit('finalization', 'finalization', 'enableVoting', true);
    edit('finalization', 'finalization', 'unfinalizedBlocksDuration', '0m');
  }
  // deviation 7
  edit('node', 'node', 'enableAddressReuse', true);
  edit('node', 'localnode', 'roles', nodeRolesString(settings));
  edit('node', 'localnode', 'host', settings.host);
  edit('node', 'localnode', 'friendlyName', settings.friendlyName);
  // deviation 6
  edit('user', 'storage', 'seedDirectory', CONTAINER_PATHS.seed);
  edit('user', 'storage', 'certificateDirectory', CONTAINER_PATHS.certificates);
  edit('user', 'storage', 'dataDirectory', CONTAINER_PATHS.data);
  edit('user', 'storage', 'pluginsDirectory', CONTAINER_PATHS.plugins);
  edit('user', 'storage', 'votingKeysDirectory', CONTAINER_PATHS.votingKeys);

  for (const override of settings.overrides ?? []) {
    const path = normalizeOverrideFile(override.file);
    const document = documents.get(path);
    if (!document)
      throw new NodeConfigError(
        `override for ${override.file}: ${path} is not part of a ${settings.role} node's configuration`,
      );
    document.set(override.section, override.key, override.value);
  }

  const files = new Map<string, string | Uint8Array>();
  for (const [path, document] of documents) files.set(path, document.toString());
  files.set('resources/peers-p2p.json', formatPeersFile('p2p', settings.peers?.p2p ?? []));
  if (settings.role === 'full-api')
    files.set('resources/peers-api.json', formatPeersFile('api', settings.peers?.api ?? []));
  if (settings.role !== 'peer') files.set('rest.json', buildRestJson(pkg, settings));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}
