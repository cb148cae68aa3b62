import type { WorkerOptions } from '@temporalio/worker';

/**
 * Concurrency of the operator's worker. Provisioning runs its short Kubernetes steps as local
 * activities, which keep their workflow task slot while they run; with the SDK's default of 40
 * slots a burst of new nodes queued for seconds before any work began (measured by
 * bench/provision.ts), so the slots are sized for bursts of hundreds of nodes.
 */
export function operatorWorkerTuning(maxConcurrent: number): Partial<WorkerOptions> {
  return {
    maxConcurrentWorkflowTaskExecutions: maxConcurrent,
    maxConcurrentLocalActivityExecutions: maxConcurrent,
    maxConcurrentActivityTaskExecutions: maxConcurrent,
    maxConcurrentWorkflowTaskPolls: 20,
    maxConcurrentActivityTaskPolls: 10,
  };
}
