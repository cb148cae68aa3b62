/**
 * Inputs and results of activities: plain data, public only. Private keys never appear here —
 * activities that create them write Kubernetes Secrets and return the Secrets' names.
 */
import type { SeedPackageSource } from '../k8s/objects/context.js';

export interface NodeRef {
  namespace: string;
  name: string;
  /** Guards against acting on a different object that reuses the name after a delete. */
  uid: string;
}

export type ConditionType = 'Ready' | 'Provisioned' | 'Progressing' | 'Degraded';

export interface ConditionUpdate {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface NodeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Public facts the operator publishes in `.status`. */
export interface PublicNodeStatus {
  mainPublicKey?: string;
  nodePublicKey?: string;
  address?: string;
  image?: string;
  network?: string;
}

export interface StatusReport {
  /** The spec generation this report is about; becomes `status.observedGeneration`. */
  generation: number;
  conditions: ConditionUpdate[];
  fields?: PublicNodeStatus;
  event?: NodeEvent;
  /** More Events of the same report (a problem and what the operator does about it). */
  moreEvents?: NodeEvent[];
}

export interface NodeIdentity {
  mainPublicKey: string;
  nodePublicKey: string;
  address: string;
  identitySecret: string;
  certificatesSecret: string;
  /** ISO-8601 time the node certificate expires. */
  nodeCertificateNotAfter: string;
}

export interface NodeConfiguration {
  configMap: string;
  /** sha256 of the rendered files; a change rolls the pod. */
  configHash: string;
  packageSha256: string;
  /** The starting peers written (activities/peerDiscovery.ts); absent in runs recorded before it was added. */
  peers?: { p2p: number; api?: number; summary: string };
  /**
   * Where seed-init gets the package when it is not the preset's official URL because the operator was given
   * its own copy (a mirror, or a local file published as a ConfigMap); absent: resolveSeedPackage decides.
   */
  seedPackage?: SeedPackageSource;
}

/** Error types that end a workflow step without retry: the input must change first. */
export const nonRetryableErrorTypes = [
  'InvalidSpec',
  'NodeGone',
  'NetworkPackageError',
  'IdentityError',
  'KubernetesRejected',
  'RecoveryJobNotOurs',
] as const;
/** The API server is down, overloaded or unreachable: worth retrying for as long as it takes. */
export const KUBERNETES_UNAVAILABLE = 'KubernetesUnavailable';
export type NonRetryableErrorType = (typeof nonRetryableErrorTypes)[number];
