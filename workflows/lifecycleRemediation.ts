import type { SearchAttributePair } from '@temporalio/common';
import { condition, executeChild, ParentClosePolicy, patched } from '@temporalio/workflow';
import type { NodeLifecycleState, PodHealthReport } from './lifecycleState.js';
import { afterInterruption, escalate, type LifecycleSteps } from './lifecycleSteps.js';
import { countRemediation } from './metrics.js';
import { recordPodHealth } from './podHealth.js';
import { remediateNode, type RemediationOutcome } from './remediateNode.js';
import { backoffDelayMs, remediationFor, type RemediationPolicy, type ReportedProblem } from './remediation/policy.js';

/** What the lifecycle hands its pod-health handling. */
export interface RemediationContext {
  steps: LifecycleSteps;
  policy: RemediationPolicy;
  workflowId: string;
  searchAttributes: (action: string) => SearchAttributePair[];
  provisioningWanted: () => boolean;
}

/**
 * Runs the recovery the report calls for, within the policy's limits. Unless the problem is `alreadyRecorded`
 * on the SymbolNode, the remediation child records it with its first report, so that the remediation starts
 * at once: a workflow task that runs a local activity sends its commands (the child's start) only at its end.
 * When no child starts right away (escalation, a pause first), the problem is recorded here.
 */
async function remediate(
  context: RemediationContext,
  report: PodHealthReport & { problem: ReportedProblem },
  alreadyRecorded = false,
): Promise<void> {
  const { steps, policy, provisioningWanted } = context;
  const state: NodeLifecycleState = steps.state;
  const remediation = (state.remediation ??= { runs: 0, recentStarts: [] });
  const recordHere = async () => {
    if (!alreadyRecorded) await recordPodHealth(steps, report);
  };
  if (remediation.escalated) return recordHere();
  const now = Date.now();
  remediation.recentStarts = remediation.recentStarts.filter((t) => now - t < policy.windowMs);
  const tries = remediation.recentStarts.length;
  if (tries >= policy.maxRemediations) {
    const message = `${tries} remediations within ${Math.round(policy.windowMs / 60_000)} min did not keep the node up; last problem: ${report.problem.message}`;
    await recordHere();
    await escalate(steps, 'RemediationExhausted', message);
    return;
  }
  if (tries > 0) {
    // A node that fails again soon after a recovery gets a pause first; a spec change or deletion cuts it short.
    await recordHere();
    if (await condition(() => state.deleted || provisioningWanted(), backoffDelayMs(policy, tries))) return;
  }
  remediation.recentStarts.push(Date.now());
  countRemediation(report.problem.reason);
  const recordProblem = !alreadyRecorded && tries === 0;
  if (recordProblem) {
    state.podHealth = report;
    state.readyFalseFromPod = true;
  }
  let outcome: RemediationOutcome;
  for (;;) {
    const run = ++remediation.runs;
    try {
      outcome = await executeChild(remediateNode, {
        workflowId: `${context.workflowId}/remediate/${run}`,
        args: [
          {
            ref: steps.ref,
            generation: state.handledGeneration,
            run,
            pod: report.pod,
            problem: report.problem,
            policy,
            ...(recordProblem ? { recordProblem } : {}),
          },
        ],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        typedSearchAttributes: context.searchAttributes('remediate'),
      });
      state.interruptions = 0;
      break;
    } catch (error) {
      // A remediation cut off half-way may have left the node stopped: it runs again (stop, recovery, start)
      // until one ends with an outcome; that is the same remediation, not another try against the limit.
      if (!patched('lifecycle-never-throws')) throw error;
      const cutShort = () => state.deleted || provisioningWanted();
      await afterInterruption(steps, `remediation ${run}`, error, cutShort);
      if (cutShort()) return;
    }
  }
  if (report.podUid) remediation.replacedPodUid = report.podUid;
  if (outcome.outcome === 'Gone') state.deleted = true;
  else if (outcome.outcome === 'Failed') await escalate(steps, outcome.reason, outcome.message);
}

/** Records a report; acts on it when the node is provisioned and the operator has not given up on it. */
export async function handlePodHealth(context: RemediationContext, report: PodHealthReport): Promise<void> {
  const { steps } = context;
  const state = steps.state;
  if (report.podUid !== undefined && report.podUid === state.remediation?.replacedPodUid) return;
  const problem = report.problem;
  const provisioned = state.handledGeneration > 0 && state.lastOutcome?.outcome === 'Ready';
  if (problem && provisioned && remediationFor(problem) === 'recover' && patched('remediation-records-the-problem')) {
    await remediate(context, { ...report, problem });
    return;
  }
  await recordPodHealth(steps, report);
  if (!problem || !provisioned) return;
  if (remediationFor(problem) === 'recover') {
    await remediate(context, { ...report, problem }, true);
  } else if (!state.remediation?.escalated) {
    // The operator cannot fix this one: a person must know, once per reason and re-alert period.
    await steps.alert('critical', problem.reason, problem.message);
  }
}
