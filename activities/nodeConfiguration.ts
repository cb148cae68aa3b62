import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../k8s/client.js';
import {
  buildHarvestingSecret,
  buildMongoScriptsConfigMap,
  buildResourcesConfigMap,
  buildRestConfigMap,
  configHash,
  HARVESTING_FILE,
  objectNames,
  REST_CONFIG_FILE,
} from '../k8s/objects/index.js';
import { isApiRole, type ParsedSymbolNode } from '../k8s/symbolNode.js';
import {
  buildNodeConfig,
  NodeConfigError,
  PrivateKeySecret,
  PropertiesDocument,
  PropertiesError,
  type HarvestingSettings,
  type NodeRole,
} from '../symbol/index.js';
import { applyObject, readSecret, secretValue } from './apply.js';
import type { NetworkPackageCache } from './networkPackages.js';
import type { NodeConfiguration, NodeIdentity } from './types.js';

/** The certificates roll the pod too; their public identity stands in for the Secret's content. */
export function certificatesFingerprint(identity: NodeIdentity): string {
  return `${identity.nodePublicKey} ${identity.nodeCertificateNotAfter}`;
}

/** SymbolNode roles in shoestring's terms: `api` and `dual` run the same software. */
function softwareRole(node: ParsedSymbolNode): NodeRole {
  return isApiRole(node.spec.role) ? 'full-api' : 'peer';
}

/** Harvesting keys are generated once; afterwards they are read back from the node's harvesting Secret. */
async function harvestingKeys(kube: KubeClients, node: ParsedSymbolNode): Promise<HarvestingSettings> {
  const secret = await readSecret(kube, node.metadata.namespace, objectNames(node.metadata.name).harvestingSecret);
  const stored = secretValue(secret, HARVESTING_FILE);
  if (stored !== undefined) {
    try {
      const properties = PropertiesDocument.parse(stored);
      const signing = properties.get('harvesting', 'harvesterSigningPrivateKey');
      const vrf = properties.get('harvesting', 'harvesterVrfPrivateKey');
      if (typeof signing === 'string' && typeof vrf === 'string' && signing && vrf) {
        return { signingKey: PrivateKeySecret.fromHex(signing), vrfKey: PrivateKeySecret.fromHex(vrf) };
      }
    } catch (error) {
      if (!(error instanceof PropertiesError)) throw error;
    }
  }
  return { signingKey: PrivateKeySecret.generate(), vrfKey: PrivateKeySecret.generate() };
}

function asText(content: string | Uint8Array): string {
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
}

/**
 * Renders the node's catapult configuration from its network package and spec, and stores it:
 * `resources/*` and peer lists in a ConfigMap, rest.json and MongoDB scripts in ConfigMaps for API
 * roles, harvesting keys in a Secret. Returns the hash that rolls the pod when any of it changes.
 */
export async function ensureNodeConfigurationFor(
  kube: KubeClients,
  packages: NetworkPackageCache,
  node: ParsedSymbolNode,
  identity?: NodeIdentity,
): Promise<NodeConfiguration> {
  const pkg = await packages.load(node.metadata.namespace, node.spec);
  const harvesting = node.spec.harvester ? await harvestingKeys(kube, node) : undefined;
  let files: Map<string, string | Uint8Array>;
  try {
    files = buildNodeConfig(pkg, {
      role: softwareRole(node),
      harvester: node.spec.harvester,
      voter: node.spec.voter,
      host: node.spec.hostName,
      friendlyName: node.spec.friendlyName ?? node.metadata.name,
      ...(harvesting ? { harvesting } : {}),
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
  if (harvestingProperties !== undefined) {
    await applyObject(kube, buildHarvestingSecret(node, harvestingProperties));
    mounted[HARVESTING_FILE] = harvestingProperties;
  }
  // Runs before the patch 'independent-steps-in-parallel' pass the identity here; newer runs pass
  // it to applyNodeWorkloads, which folds it into the hash (see withCertificates).
  if (identity) mounted['certificates'] = certificatesFingerprint(identity);
  return {
    configMap: objectNames(node.metadata.name).resourcesConfigMap,
    configHash: configHash(mounted),
    packageSha256: pkg.zipSha256 ?? '',
  };
}
