/** ConfigMaps of a SymbolNode: rendered catapult resources, and for API roles rest.json and MongoDB scripts. */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import {
  APP_NAME,
  DEFAULT_PACKAGE_CONFIGMAP_KEY,
  GROUP,
  isApiRole,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  MANAGER_NAME,
  PATTERNS,
  type ParsedSymbolNode,
} from '../symbolNode.js';
import { childMetadata, type Component } from './metadata.js';
import { BuildError, objectNames } from './names.js';

/** The API server rejects ConfigMaps whose data exceeds 1 MiB (why the seed is not a ConfigMap). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
/** Holds harvesting private keys: only ever in the `<name>-harvesting` Secret. */
export const HARVESTING_FILE = 'config-harvesting.properties';
export const REST_CONFIG_FILE = 'rest.json';

const dataKeyRe = new RegExp(PATTERNS.dataKey, 'u');

function configMap(
  node: ParsedSymbolNode,
  name: string,
  component: Component,
  files: Readonly<Record<string, string>>,
): V1ConfigMap {
  let bytes = 0;
  for (const [key, content] of Object.entries(files)) {
    if (key.length > 253 || !dataKeyRe.test(key)) {
      throw new BuildError(
        `ConfigMap ${name}: ${JSON.stringify(key)} is not a valid key (letters, digits, '-', '_', '.')`,
      );
    }
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(content, 'utf8');
  }
  if (bytes > CONFIGMAP_MAX_BYTES) {
    throw new BuildError(`ConfigMap ${name}: ${bytes} bytes exceed the ${CONFIGMAP_MAX_BYTES}-byte limit`);
  }
  const data = Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((k) => [k, files[k]!]),
  );
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: childMetadata(node, name, component), data };
}

/**
 * `<name>-resources`: the `config-*.properties` files and peer lists, mounted at /userconfig/resources. For a
 * harvester, config-harvesting.properties holds private keys and must go to {@link buildHarvestingSecret}
 * instead; passing it here throws.
 */
export function buildResourcesConfigMap(node: ParsedSymbolNode, files: Readonly<Record<string, string>>): V1ConfigMap {
  if (node.spec.harvester && HARVESTING_FILE in files) {
    throw new BuildError(
      `${HARVESTING_FILE} of a harvester contains private keys: put it in the harvesting Secret, not the resources ConfigMap`,
    );
  }
  return configMap(node, objectNames(node.metadata.name).resourcesConfigMap, 'config', files);
}

function requireApiRole(node: ParsedSymbolNode, what: string): void {
  if (!isApiRole(node.spec.role))
    throw new BuildError(`${what} exists only for roles api and dual, not "${node.spec.role}"`);
}

/** `<name>-rest`: rest.json of the REST gateway (roles api and dual). */
export function buildRestConfigMap(node: ParsedSymbolNode, restJson: string): V1ConfigMap {
  requireApiRole(node, 'The REST ConfigMap');
  try {
    JSON.parse(restJson);
  } catch (error) {
    throw new BuildError(`rest.json is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return configMap(node, objectNames(node.metadata.name).restConfigMap, 'rest-config', {
    [REST_CONFIG_FILE]: restJson,
  });
}

/** `<name>-mongo`: the package's `mongo/*.js` (mongoDbPrepare.js loads the others by relative name). */
export function buildMongoScriptsConfigMap(
  node: ParsedSymbolNode,
  files: Readonly<Record<string, string>>,
): V1ConfigMap {
  requireApiRole(node, 'The MongoDB scripts ConfigMap');
  if (!('mongoDbPrepare.js' in files)) throw new BuildError('the MongoDB scripts must include mongoDbPrepare.js');
  return configMap(node, objectNames(node.metadata.name).mongoScriptsConfigMap, 'mongo-scripts', files);
}

/**
 * A network package the operator publishes for seed-init stays this far below the API server's 1 MiB limit on
 * a ConfigMap's data: room for the object's metadata, and no surprise from a package that grows a little.
 */
export const NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES = 900 * 1024;
export const NETWORK_PACKAGE_CONFIGMAP_PREFIX = 'symbol-network-package-';
export const ANNOTATION_PACKAGE_SHA256 = `${GROUP}/package-sha256`;

/** `symbol-network-package-<first 12 hex digits of the zip's sha256>`: one per package content, not per node. */
export function networkPackageConfigMapName(zip: Uint8Array): string {
  return `${NETWORK_PACKAGE_CONFIGMAP_PREFIX}${createHash('sha256').update(zip).digest('hex').slice(0, 12)}`;
}

/**
 * The operator's own copy of a network package (a local file it was configured with), published in a node's
 * namespace so that seed-init reads the seed from it instead of the internet. Shared by every node of the
 * namespace that uses the same package, so it has no owner; named by content and immutable, so applying it again
 * changes nothing and the kubelet need not watch it. seed-init still verifies the pinned checksum.
 */
export function buildNetworkPackageConfigMap(namespace: string, zip: Uint8Array): V1ConfigMap {
  if (zip.byteLength > NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES) {
    throw new BuildError(
      `a ${zip.byteLength}-byte network package does not fit a ConfigMap (at most ${NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES} bytes here)`,
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: networkPackageConfigMapName(zip),
      namespace,
      labels: {
        [LABEL_COMPONENT]: 'network-package',
        [LABEL_PART_OF]: APP_NAME,
        [LABEL_MANAGED_BY]: MANAGER_NAME,
      },
      annotations: { [ANNOTATION_PACKAGE_SHA256]: createHash('sha256').update(zip).digest('hex') },
    },
    immutable: true,
    binaryData: { [DEFAULT_PACKAGE_CONFIGMAP_KEY]: Buffer.from(zip).toString('base64') },
  };
}
