/**
 * Counters that workflow code may call: `metricMeter` of @temporalio/workflow sends nothing while a workflow
 * replays, so a remediation or an alert is counted once, by the worker that first ran it, however often its
 * history is replayed later (cache eviction, another replica, a restart). They reach Prometheus through the
 * Temporal SDK's metrics exporter, which the operator serves on its /metrics beside its own (worker/metrics.ts);
 * Core adds `namespace`, `task_queue` and `workflow_type` labels and the `_total` suffix. Where no exporter is
 * configured (tests' operators), they cost nothing.
 *
 * This module is also a workflow interceptor module (`interceptors` below, registered with
 * `workflowInterceptorModules` / `interceptors.workflowModules`): it counts every workflow run started and
 * failed, by action.
 */
import {
  ContinueAsNew,
  isCancellation,
  metricMeter,
  TemporalFailure,
  workflowInfo,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';

/** Metric names as Core exports them (counters get `_total`). Shared with the dashboard and the tests. */
export const workflowMetricNames = {
  remediations: 'symbol_operator_remediations',
  alertsSent: 'symbol_operator_alerts_sent',
  workflowsStarted: 'symbol_operator_workflows_started',
  workflowsFailed: 'symbol_operator_workflows_failed',
} as const;

/** The action a workflow type performs on its node, as the dashboard groups them. */
export const actionOfWorkflowType: Readonly<Record<string, string>> = {
  nodeLifecycle: 'lifecycle',
  provisionNode: 'provision',
  remediateNode: 'remediate',
};

function count(name: string, description: string, tags: Record<string, string>): void {
  metricMeter.createCounter(name, '', description).add(1, tags);
}

/** A remediation begun for `reason` (the pod problem, e.g. `UncleanStop`, `LostNode`). */
export function countRemediation(reason: string): void {
  count(workflowMetricNames.remediations, 'Remediations started, by reason', { reason });
}

/** An alert sent for `reason` (call it once the sending activity returned). */
export function countAlert(reason: string): void {
  count(workflowMetricNames.alertsSent, 'Alerts sent, by reason', { reason });
}

function actionOf(workflowType: string): string {
  return actionOfWorkflowType[workflowType] ?? workflowType;
}

/**
 * A run is counted as started when it first executes (not for a continue-as-new of the same lifecycle), and as
 * failed when it ends with a failure that fails the workflow (not a cancellation, not a continue-as-new, not a
 * bug that only fails the workflow task and is retried).
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const info = workflowInfo();
        const action = actionOf(info.workflowType);
        if (!info.continuedFromExecutionRunId)
          count(workflowMetricNames.workflowsStarted, 'Workflow runs started, by action', { action });
        try {
          return await next(input);
        } catch (error) {
          if (error instanceof TemporalFailure && !isCancellation(error) && !(error instanceof ContinueAsNew))
            count(workflowMetricNames.workflowsFailed, 'Workflow runs failed, by action', { action });
          throw error;
        }
      },
    },
  ],
});
