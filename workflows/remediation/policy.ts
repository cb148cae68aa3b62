/** When and how hard the operator tries to repair a node by itself before it asks a person. */
export interface RemediationPolicy {
  /** Remediations started within {@link windowMs} before the operator stops and alerts. */
  maxRemediations: number;
  windowMs: number;
  /** catapult.recovery Jobs tried within one remediation. */
  recoveryJobAttempts: number;
  /** First pause between recovery attempts and between remediations of the same node; doubles each time. */
  backoffMs: number;
  maxBackoffMs: number;
  /** An alert's reason is repeated only after this long (default remediation/alerting.ts DEFAULT_REALERT_MS). */
  realertMs?: number;
}

export const DEFAULT_REMEDIATION_POLICY: RemediationPolicy = {
  maxRemediations: 3,
  windowMs: 60 * 60_000,
  recoveryJobAttempts: 3,
  backoffMs: 30_000,
  maxBackoffMs: 10 * 60_000,
};

export function backoffDelayMs(policy: RemediationPolicy, previousTries: number): number {
  return Math.min(policy.backoffMs * 2 ** Math.max(0, previousTries - 1), policy.maxBackoffMs);
}

/** The problem part of a pod report that remediation decisions use. */
export interface ReportedProblem {
  /** The most severe problem's kind. */
  kind: string;
  /** Every problem kind the pod shows (absent in reports sent before it was added). */
  kinds?: string[];
  reason: string;
  message: string;
  uncleanStop: boolean;
  remediable: boolean;
}

/**
 * `recover`: stop the node, run catapult.recovery on its volume, start it again. Needed after any unclean stop
 * of a catapult process (stale lock files, half-written spool queues), and when MongoDB or the broker went down
 * under a running server: the broker died on a failed write and must resume from its queues (facts §3).
 * `report`: restarting cannot help (a missing image, a broken Secret reference) or Kubernetes restarts the
 * container by itself without risk (REST): record it and alert, never loop.
 */
export function remediationFor(problem: ReportedProblem): 'recover' | 'report' {
  if (!problem.remediable) return 'report';
  const kinds = problem.kinds ?? [problem.kind];
  if (problem.uncleanStop || kinds.includes('MongoDown') || kinds.includes('BrokerDown')) return 'recover';
  return 'report';
}
