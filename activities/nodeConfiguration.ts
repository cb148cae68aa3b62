import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../k8s/client.js';
import {
  buildMongoScriptsConfigMap,
  buildNetworkPackageConfigMap,
  buildResourcesConfigMap,
  buildRestConfigMap,
  configHash,
  HARVESTING_FILE,
  NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES,
  networkPackageConfigMapName,
  normaliseSeedChecksum,
  objectNames,
  REST_CONFIG_FILE,
  type SeedPackageSource,
} from '../k8s/objects/index.js';
import { DEFAULT_PACKAGE_CONFIGMAP_KEY, isApiRole, type ParsedSymbolNode } from '../k8s/symbolNode.js';
import { buildNodeConfig, NodeConfigError, PropertiesError, type NodeRole } from '../symbol/index.js';
import { applyObject } from './apply.js';
import { harvestingKeysFor, storeHarvestingSecret } from './harvestingKeys.js';
import type { NetworkPackageCache } from './networkPackages.js';
import { findStartingPeers, NodewatchClient } from './peerDiscovery.js';
import type { NodeConfiguration, NodeIdentity } from './types.js';

/** One client per operator process: its cache lets a burst of new nodes ask nodewatch once. */
const sharedNodewatch = new NodewatchClient();

/** The certificates roll the pod too; their public identity stands in for the Secret's content. */
export function certificatesFingerprint(identity: NodeIdentity): string {
  return `${identity.nodePublicKey} ${identity.nodeCertificateNotAfter}`;
}

/** SymbolNode roles in shoestring's terms: `api` and `dual` run the same software. */
function softwareRole(node: ParsedSymbolNode): NodeRole {
  return isApiRole(node.spec.role) ? 'full-api' : 'peer';
}

function asText(content: string | Uint8Array): string {
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
}

/**
 * When the operator holds its own copy of the node's preset package, seed-init must use that copy, not the
 * internet: a mirror URL is passed on; a local file is published in the node's namespace as a ConfigMap (one per
 * package content). A file too large for a ConfigMap (mainnet's ~7 MB, its seed included) stops here with a
 * message for the admin: seed-init never falls back to a download the admin did not ask for.
 */
async function seedPackageFor(
  kube: KubeClients,
  packages: NetworkPackageCache,
  node: ParsedSymbolNode,
): Promise<SeedPackageSource | undefined> {
  const own = await packages.operatorSeedPackage(node.spec);
  if (own === undefined) return undefined;
  const checksum = normaliseSeedChecksum(own.checksum);
  if (own.kind === 'url') return { kind: 'url', url: own.url, checksum };
  if (own.zip.byteLength > NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES) {
    const network = node.spec.network;
    throw ApplicationFailure.create({
      type: 'NetworkPackageError',
      message:
        `the operator's ${network} network package ${own.location} is ${own.zip.byteLength} bytes, too large to ` +
        `hand to seed-init in a ConfigMap (at most ${NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES}): serve it from a URL ` +
        `the pods can reach (e.g. a mirror) and set SNO_NETWORK_PACKAGE_${network.toUpperCase()} to that URL, ` +
        `or set spec.networkPackage.url with its sha256`,
      // retried now and then by the lifecycle: fixed by the operator's configuration, not by the spec
      details: ['SourceUnavailable'],
      nonRetryable: true,
    });
  }
  await applyObject(kube, buildNetworkPackageConfigMap(node.metadata.namespace, own.zip));
  return {
    kind: 'configMap',
    name: networkPackageConfigMapName(own.zip),
    key: DEFAULT_PACKAGE_CONFIGMAP_KEY,
    checksum,
  };
}

/**
 * Renders the node's catapult configuration from its network package and spec, and stores it:
 * `resources/*` and peer lists in a ConfigMap, rest.json and MongoDB scripts in ConfigMaps for API
 * roles, harvesting keys in a Secret. Returns the hash that rolls the pod when any of it changes (the peer
 * lists included), what the peer lists hold, and where seed-init gets the package if not from its official URL.
 */
export async function ensureNodeConfigurationFor(
  kube: KubeClients,
  packages: NetworkPackageCache,
  node: ParsedSymbolNode,
  identity?: NodeIdentity,
  nodewatch: NodewatchClient = sharedNodewatch,
): Promise<NodeConfiguration> {
  const pkg = await packages.load(node.metadata.namespace, node.spec);
  const [harvesting, peers, seedPackage] = await Promise.all([
    node.spec.harvester ? harvestingKeysFor(kube, node) : undefined,
    findStartingPeers(node, pkg, nodewatch),
    seedPackageFor(kube, packages, node),
  ]);
  let files: Map<string, string | Uint8Array>;
  try {
    files = buildNodeConfig(pkg, {
      role: softwareRole(node),
      harvester: node.spec.harvester,
      voter: node.spec.voter,
      host: node.spec.hostName,
      friendlyName: node.spec.friendlyName ?? node.metadata.name,
      ...(harvesting ? { harvesting: { signingKey: harvesting.signingKey, vrfKey: harvesting.vrfKey } } : {}),
      peers: { p2p: peers.p2p, ...(peers.api ? { api: peers.api } : {}) },
    });
  } catch (error) {
    if (error instanceof NodeConfigError || error instanceof PropertiesError) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message: error.message,
        details: ['InvalidConfiguration'],
        nonRetryable: true,
      });
    }
    throw error;
  }

  const resources: Record<string, string> = {};
  let harvestingProperties: string | undefined;
  let restJson: string | undefined;
  for (const [path, content] of files) {
    const text = asText(content);
    if (path === `resources/${HARVESTING_FILE}` && node.spec.harvester) harvestingProperties = text;
    else if (path.startsWith('resources/')) resources[path.slice('resources/'.length)] = text;
    else if (path === REST_CONFIG_FILE) restJson = text;
  }
  const mounted: Record<string, string> = Object.fromEntries(
    Object.entries(resources).map(([k, v]) => [`resources/${k}`, v]),
  );

  await applyObject(kube, buildResourcesConfigMap(node, resources));
  if (isApiRole(node.spec.role)) {
    if (restJson === undefined) throw new Error('an API node configuration has no rest.json');
    const mongoScripts = Object.fromEntries(
      pkg.list('mongo/').map((path) => [path.slice('mongo/'.length), pkg.text(path)]),
    );
    await applyObject(kube, buildRestConfigMap(node, restJson));
    await applyObject(kube, buildMongoScriptsConfigMap(node, mongoScripts));
    mounted[REST_CONFIG_FILE] = restJson;
    for (const [name, text] of Object.entries(mongoScripts)) mounted[`mongo/${name}`] = text;
  }
  if (harvesting && harvestingProperties !== undefined) {
    await storeHarvestingSecret(kube, node, harvesting, harvestingProperties);
    mounted[HARVESTING_FILE] = harvestingProperties;
  }
  // Runs before the patch 'independent-steps-in-parallel' pass the identity here; newer runs pass
  // it to applyNodeWorkloads, which folds it into the hash (see withCertificates).
  if (identity) mounted['certificates'] = certificatesFingerprint(identity);
  return {
    configMap: objectNames(node.metadata.name).resourcesConfigMap,
    configHash: configHash(mounted),
    packageSha256: pkg.zipSha256 ?? '',
    peers: { p2p: peers.p2p.length, ...(peers.api ? { api: peers.api.length } : {}), summary: peers.summary },
    ...(seedPackage ? { seedPackage } : {}),
  };
}
