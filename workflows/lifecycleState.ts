import type { NodeRef } from '../activities/types.js';
import type { Outage } from './durableStep.js';
import type { ProvisionOutcome } from './provisionNode.js';
import type { RemediationPolicy, ReportedProblem } from './remediation/policy.js';

/** What the pod watcher sees of the node's pod: a problem (the most severe) or none. */
export interface PodHealthReport {
  pod: string;
  /** Absent in reports sent before it was added. */
  podUid?: string;
  podReady: boolean;
  problem?: ReportedProblem;
}

/** What the operator did about the node's pod problems; survives continue-as-new. */
export interface RemediationState {
  /** Remediations started so far: numbers the remediation workflows and their Jobs. */
  runs: number;
  /** Start times (ms) of recent remediations, for the limit per window. */
  recentStarts: number[];
  /** Set when the operator gave up: it stays hands-off until the spec changes or a person resumes it. */
  escalated?: { reason: string; message: string };
  /** The pod a remediation replaced: later reports about it are stale. */
  replacedPodUid?: string;
}

/** The last alert sent for the node: repeats of its reason wait for the re-alert period. */
export interface AlertedState {
  reason: string;
  atMs: number;
  /** Alerts sent so far: with the workflow id, the idempotency key a receiver dedupes retried deliveries by. */
  sequence: number;
}

export interface NodeLifecycleState {
  requestedGeneration: number;
  handledGeneration: number;
  lastOutcome?: ProvisionOutcome;
  deleted: boolean;
  /** The pod health last recorded on the SymbolNode. */
  podHealth?: PodHealthReport;
  /** Ready=False on the SymbolNode was written from a pod report, so a Ready pod must set it back. */
  readyFalseFromPod?: boolean;
  remediation?: RemediationState;
  /** The server image and generation last provisioned Ready: what a bad new image can be rolled back to. */
  lastReady?: { generation: number; image?: string };
  /** Signals received but not yet acted on when the run continued as new. */
  carriedOver?: { podHealth?: PodHealthReport; resume?: boolean };
  /** An outage of the Kubernetes API (or of Temporal) a lifecycle step is riding out right now. */
  outage?: Outage;
  alerted?: AlertedState;
  /** Child workflows that ended without an outcome (terminated, a bug) in a row: spaces out the next try. */
  interruptions?: number;
}

export interface NodeLifecycleInput {
  ref: NodeRef;
  network: string;
  /** First delay before re-trying a provisioning that failed for a reason fixed outside the spec; doubles up to 10 min. */
  retryFailedAfterMs?: number;
  remediation?: Partial<RemediationPolicy>;
  state?: NodeLifecycleState;
}
