import type { WorkerOptions } from '@temporalio/worker';

/**
 * Concurrency of the operator's worker. Provisioning runs its short Kubernetes steps as local
 * activities, which keep their workflow task slot while they run; with the SDK's default of 40
 * slots a burst of new nodes queued for seconds before any work began (measured by
 * bench/provision.ts), so the slots are sized for bursts of hundreds of nodes.
 */
const KUBERNETES_CALL_CONCURRENCY = 64;

export function operatorWorkerTuning(maxConcurrent: number): Partial<WorkerOptions> {
  return {
    maxConcurrentWorkflowTaskExecutions: maxConcurrent,
    // Local activities make the operator's Kubernetes calls: bounding them bounds the requests in flight.
    // Unbounded, a burst of 1,000 nodes overloaded the API server into timeouts and retries (35 requests per
    // node instead of 15, 213 s instead of 132 s); the HTTP agent cannot bound them itself (node-fetch#1767).
    // Regular activities mostly wait (for a pod, a Job) and stay at the workflow limit.
    maxConcurrentLocalActivityExecutions: Math.min(maxConcurrent, KUBERNETES_CALL_CONCURRENCY),
    maxConcurrentActivityTaskExecutions: maxConcurrent,
    maxConcurrentWorkflowTaskPolls: 20,
    maxConcurrentActivityTaskPolls: 10,
  };
}
