/** Labels, owner references and object metadata shared by every object built for a SymbolNode. */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import {
  API_VERSION,
  APP_NAME,
  KIND,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_NETWORK,
  LABEL_PART_OF,
  LABEL_ROLE,
  MANAGER_NAME,
  type ParsedSymbolNode,
} from '../symbolNode.js';

/** The immutable selector of the StatefulSet and the Services: stable for the node's whole life. */
export function selectorLabels(node: ParsedSymbolNode): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: node.metadata.name };
}

export type Component =
  | 'node'
  | 'recovery'
  | 'service'
  | 'config'
  | 'rest-config'
  | 'mongo-scripts'
  | 'certificates'
  | 'identity'
  | 'harvesting';

export function commonLabels(node: ParsedSymbolNode, component: Component): Record<string, string> {
  return {
    ...selectorLabels(node),
    [LABEL_COMPONENT]: component,
    [LABEL_PART_OF]: APP_NAME,
    [LABEL_MANAGED_BY]: MANAGER_NAME,
    [LABEL_NETWORK]: node.spec.network,
    [LABEL_ROLE]: node.spec.role,
  };
}

/** The controller reference to the SymbolNode: garbage collection deletes the object with the SymbolNode. */
export function ownerReference(node: ParsedSymbolNode): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: node.metadata.name,
    uid: node.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Metadata of a child object in the SymbolNode's namespace. `owned: false` leaves the owner reference out:
 * used for key material that must outlive the SymbolNode under `dataRetentionPolicy: Retain`.
 */
export function childMetadata(
  node: ParsedSymbolNode,
  name: string,
  component: Component,
  options: { owned?: boolean; annotations?: Record<string, string> } = {},
): V1ObjectMeta {
  return {
    name,
    namespace: node.metadata.namespace,
    labels: commonLabels(node, component),
    ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
    ...((options.owned ?? true) ? { ownerReferences: [ownerReference(node)] } : {}),
  };
}

/**
 * Key material (main account key, node certificates and key, harvesting keys) follows the data volume: with
 * `Retain` it survives the SymbolNode like the PVC does (a generated main account may hold funds; a new node
 * key would orphan delegated harvesters), with `Delete` it is garbage-collected with the SymbolNode.
 */
export function keyMaterialIsOwned(node: ParsedSymbolNode): boolean {
  return node.spec.dataRetentionPolicy === 'Delete';
}
