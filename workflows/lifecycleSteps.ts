import {
  ChildWorkflowFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import type { ConditionType, NodeRef, StatusReport } from '../activities/types.js';
import { durableSteps, type DurableStep } from './durableStep.js';
import type { NodeLifecycleState } from './lifecycleState.js';
import { countAlert } from './metrics.js';
import { alertIdempotencyKey, shouldAlert } from './remediation/alerting.js';

const { reportNodeStatus } = proxyLocalActivities<NodeActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

// The webhook notifier retries delivery itself; a few more attempts cover a Secret read failing.
const { sendAlert } = proxyActivities<NodeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

/** The lifecycle's own Kubernetes writes and alerts, each riding out outages (durableStep.ts). */
export interface LifecycleSteps {
  ref: NodeRef;
  state: NodeLifecycleState;
  durably: DurableStep;
  /** `outageCondition`: the condition an outage report sets Unknown until this write sets it again. */
  report(step: string, status: StatusReport, outageCondition?: ConditionType | false): Promise<void>;
  /** Sends an alert unless the lifecycle already sent one for this reason within the re-alert period. */
  alert(severity: 'warning' | 'critical', reason: string, message: string): Promise<void>;
}

export function lifecycleSteps(ref: NodeRef, state: NodeLifecycleState, realertMs?: number): LifecycleSteps {
  const durably = durableSteps(ref, () => state.handledGeneration, state);
  // A webhook that is away is no Kubernetes outage: its retries keep their own record, reported nowhere.
  const durablyAlert = durableSteps(ref, () => state.handledGeneration, {});
  return {
    ref,
    state,
    durably,
    report: (step, status, outageCondition = 'Ready') =>
      durably(step, () => reportNodeStatus(ref, status), { outageCondition }),
    async alert(severity, reason, message) {
      const request = { ref, severity, reason, message };
      if (!patched('alert-dedupe-in-workflow')) {
        await sendAlert(request);
        return;
      }
      const now = Date.now();
      if (!shouldAlert(state.alerted, reason, now, realertMs)) return;
      const sequence = (state.alerted?.sequence ?? 0) + 1;
      // Decided before the activity runs: a retried delivery carries the same key, a replica never a second one.
      state.alerted = { reason, atMs: now, sequence };
      const idempotencyKey = alertIdempotencyKey(workflowInfo().workflowId, sequence);
      const outcome = await durablyAlert('sending an alert', () => sendAlert({ ...request, idempotencyKey }), {
        reportOutage: false,
      });
      if (outcome.status === 'sent') countAlert(reason);
    },
  };
}

/**
 * Gives up on the node until the spec changes or a person resumes: Degraded with the reason and what to do,
 * one Event and one alert. Repairing it again and again would only thrash the node and hide the problem.
 */
export async function escalate(steps: LifecycleSteps, reason: string, message: string): Promise<void> {
  const { ref, state } = steps;
  const remediation = (state.remediation ??= { runs: 0, recentStarts: [] });
  remediation.escalated = { reason, message };
  const action = `the operator stopped acting on its own; fix the cause, then change the spec or resume: npm run cli -- resume ${ref.namespace}/${ref.name}`;
  state.readyFalseFromPod = true;
  await steps.report('recording the escalation', {
    generation: state.handledGeneration,
    conditions: [
      { type: 'Degraded', status: 'True', reason, message: `${message}; ${action}` },
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason, message: action },
    ],
    event: { type: 'Warning', reason, message: `${message}; ${action}` },
  });
  await steps.alert('critical', reason, `${message}; ${action}`);
}

/**
 * A child workflow or a step that ended without an outcome (terminated by a person, a bug, a refusal of the
 * lifecycle's own write): recorded on the SymbolNode, then the caller tries again after a pause that doubles
 * with each such end in a row (1 s to 10 min); a deletion or a newer spec (`cutShort`) ends the pause early.
 */
export async function afterInterruption(
  steps: LifecycleSteps,
  what: string,
  error: unknown,
  cutShort: () => boolean,
): Promise<void> {
  const { state } = steps;
  const count = (state.interruptions = (state.interruptions ?? 0) + 1);
  const delayMs = Math.min(1_000 * 2 ** (count - 1), 10 * 60_000);
  const child = error instanceof ChildWorkflowFailure;
  const reason = child
    ? `${what.startsWith('remediation') ? 'Remediation' : 'Provisioning'}Interrupted`
    : 'LifecycleStepFailed';
  const cause = child ? (error.cause ?? error) : error;
  const detail = cause instanceof Error ? cause.message : String(cause);
  const message = `${what} ended without an outcome (${detail}); trying again in ${Math.round(delayMs / 1000)} s`;
  try {
    await steps.report(
      'recording an interruption',
      {
        generation: state.handledGeneration,
        conditions: [{ type: 'Degraded', status: 'True', reason, message }],
        event: { type: 'Warning', reason, message },
      },
      false,
    );
  } catch {
    // The write itself was refused: the history keeps the failure, and the next try follows all the same.
  }
  await condition(cutShort, delayMs);
}
