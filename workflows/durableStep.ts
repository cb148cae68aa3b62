import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  defineQuery,
  patched,
  proxyLocalActivities,
  ServerFailure,
  sleep,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import { KUBERNETES_UNAVAILABLE, type ConditionType, type NodeRef } from '../activities/types.js';
import { failureOf } from './kubernetesSteps.js';

/**
 * An infrastructure outage a step is riding out: kept in workflow state (the lifecycle's survives
 * continue-as-new), reported on the SymbolNode by the first write that gets through.
 */
export interface Outage {
  /** Workflow time (ms) of the first failure. */
  sinceMs: number;
  /** What the workflow was doing, e.g. "applying the workloads". */
  step: string;
  /** `KubernetesUnavailable` (the API server did not answer), `StepTimedOut` (a step or Temporal did not). */
  reason: string;
  message: string;
  failures: number;
}

export interface OutageHolder {
  outage?: Outage;
}

export const outageQuery = defineQuery<Outage | undefined>('outage');

const FIRST_DELAY_MS = 1_000;
// 30 s: after a long outage the node resumes within half a minute; a thousand nodes waiting cost the API server
// ~33 requests a second, nothing next to their normal load. (Timer durations are not checked on replay.)
const MAX_DELAY_MS = 30_000;

export function outageDelayMs(failures: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, failures - 1), MAX_DELAY_MS);
}

/**
 * The reason to wait and try again, when the failure is the infrastructure's and not the input's: the activity
 * saw the API server unavailable, or the step timed out (a hung API server, a Temporal server that was away).
 */
export function transientReason(error: unknown, retryTimeouts = true, duringOutage = false): string | undefined {
  let cause = error;
  if (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type === KUBERNETES_UNAVAILABLE) return KUBERNETES_UNAVAILABLE;
  // A kube-apiserver that is starting again refuses requests (403) until its authorizer has loaded the RBAC rules:
  // during an outage that is the outage still, not a refusal of our input.
  if (duringOutage && cause instanceof ApplicationFailure && cause.type === 'KubernetesRejected') {
    const details: readonly unknown[] = cause.details ?? [];
    if (details[0] === 'KubernetesApi403') return KUBERNETES_UNAVAILABLE;
  }
  if (retryTimeouts && (cause instanceof TimeoutFailure || cause instanceof ServerFailure)) return 'StepTimedOut';
  return undefined;
}

// The report of an outage is tried once or twice between the step's retries: the step itself retries longer.
const { reportNodeStatus: reportOutageStatus } = proxyLocalActivities<NodeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
});

export interface DurableStepOptions {
  /** Written as Unknown when the outage is over, until the normal path sets it again; false: an Event only. */
  outageCondition?: ConditionType | false;
  /** false: a timeout is the step's answer (waiting for a pod that never becomes Ready), not an outage. */
  retryTimeouts?: boolean;
  /** false: not a Kubernetes step (the webhook): nothing to report when it gets through. */
  reportOutage?: boolean;
}

export type DurableStep = <T>(step: string, run: () => Promise<T>, options?: DurableStepOptions) => Promise<T>;

/**
 * Runs workflow steps that must not fail because the infrastructure is away: a transient failure is retried
 * without limit, 1 s doubling up to 30 s, with the outage kept in `holder`. Once the API server answers again,
 * the SymbolNode says what happened before the step runs again (`Ready=Unknown`, reason KubernetesUnavailable,
 * "unreachable for N s while <step>; resumed", and a Warning Event), so the step's own writes come after it.
 * Other failures (a permanent refusal, a missing node, a bug) are the caller's, as before.
 */
export function durableSteps(ref: NodeRef, generation: () => number, holder: OutageHolder): DurableStep {
  async function reportOutage(outage: Outage, conditionType: ConditionType | false): Promise<void> {
    const seconds = Math.max(1, Math.round((Date.now() - outage.sinceMs) / 1000));
    const what =
      outage.reason === KUBERNETES_UNAVAILABLE
        ? 'the Kubernetes API was unreachable'
        : 'a step did not answer (the Kubernetes API or Temporal was away)';
    const message = `${what} for ${seconds} s while ${outage.step}; resumed`;
    await reportOutageStatus(ref, {
      generation: generation(),
      conditions: conditionType ? [{ type: conditionType, status: 'Unknown', reason: outage.reason, message }] : [],
      event: { type: 'Warning', reason: outage.reason, message: `${message} (last error: ${outage.message})` },
    });
  }

  return async function durably<T>(step: string, run: () => Promise<T>, options: DurableStepOptions = {}) {
    const { outageCondition = 'Ready', retryTimeouts = true, reportOutage: report = true } = options;
    for (let attempt = 0; ; attempt++) {
      try {
        const outage = holder.outage;
        // Steps running side by side share one outage: the first that gets through reports it.
        if (attempt > 0 && outage && report) {
          await reportOutage(outage, outageCondition);
          if (holder.outage === outage) holder.outage = undefined;
        }
        // The step's commands come first on its first attempt, exactly as before this helper existed.
        return await run();
      } catch (error) {
        const reason = transientReason(error, retryTimeouts, holder.outage !== undefined);
        if (reason === undefined || !patched('durable-kubernetes-steps')) {
          holder.outage = undefined;
          throw error;
        }
        const outage = (holder.outage ??= { sinceMs: Date.now(), step, reason, message: '', failures: 0 });
        outage.step = step;
        outage.reason = reason === KUBERNETES_UNAVAILABLE ? reason : outage.reason;
        outage.message = failureOf(error, reason).message;
        outage.failures++;
        await sleep(outageDelayMs(outage.failures));
      }
    }
  };
}
