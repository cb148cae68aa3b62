import type { AlertedState } from '../lifecycleState.js';

/** A reason alerted once is repeated only after this long, however often it is reported meanwhile. */
export const DEFAULT_REALERT_MS = 60 * 60_000;

/**
 * Whether the node's lifecycle sends an alert for `reason` now: a new reason always, the same one again only after
 * the re-alert period. Decided from the lifecycle's state, so restarts and operator replicas do not repeat it.
 */
export function shouldAlert(
  alerted: AlertedState | undefined,
  reason: string,
  nowMs: number,
  realertMs = DEFAULT_REALERT_MS,
): boolean {
  if (!alerted || alerted.reason !== reason) return true;
  return nowMs - alerted.atMs >= realertMs;
}

/** The key a webhook receiver dedupes a retried delivery of the same alert by: stable across activity retries. */
export function alertIdempotencyKey(workflowId: string, sequence: number): string {
  return `${workflowId}/alert/${sequence}`;
}
