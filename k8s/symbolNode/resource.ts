/** The SymbolNode resource as read from the API server, and as it is once validated. */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition, Phase } from '../conditions.js';
import type { API_VERSION, KIND } from './api.js';
import type { SymbolNodeSpec, SymbolNodeSpecInput } from './schema.js';
import type { Network } from './values.js';

/** Public data only: never a private key. */
export interface SymbolNodeStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  phase?: Phase;
  /** Node (transport) public key, 64 upper-case hex digits. */
  nodePublicKey?: string;
  /** Main account public key, 64 upper-case hex digits. */
  mainPublicKey?: string;
  /** Main account address, 39 base32 characters. */
  address?: string;
  /** The server image the running pod was built from. */
  image?: string;
  /** The network the data volume was initialised for. */
  network?: Network;
  /** Chain height last read from the node. */
  height?: number;
  /** When the height was last read (RFC 3339). */
  lastHeightCheck?: string;
}

/** The metadata of a validated SymbolNode: name, namespace and uid are guaranteed. */
export interface SymbolNodeMetadata {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  /** RFC 3339, as the API server sends it. */
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

/**
 * A SymbolNode as the API server returns it: nothing is guaranteed yet. Compatible with the client library's
 * `KubernetesObject` (informers, CustomObjectsApi). Pass it to {@link parseSymbolNode} before use.
 */
export interface SymbolNode {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: SymbolNodeSpecInput;
  status?: SymbolNodeStatus;
}

/** A SymbolNode whose metadata and spec passed validation, with defaults applied. */
export interface ParsedSymbolNode {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: SymbolNodeMetadata;
  spec: SymbolNodeSpec;
  status?: SymbolNodeStatus;
}
