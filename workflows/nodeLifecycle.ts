import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  proxyLocalActivities,
  ParentClosePolicy,
  setHandler,
  workflowInfo,
  allHandlersFinished,
  CancellationScope,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import type { NodeRef } from '../activities/types.js';
import { provisionNode, type ProvisionOutcome } from './provisionNode.js';
import { remediateNode } from './remediateNode.js';
import {
  backoffDelayMs,
  DEFAULT_REMEDIATION_POLICY,
  remediationFor,
  type RemediationPolicy,
  type ReportedProblem,
} from './remediation/policy.js';
import { retriesLater } from './remediation/failureRules.js';
import { nodeActionKey, symbolNodeKey, kubernetesNamespaceKey, symbolNetworkKey } from './searchAttributes.js';

/** The watcher saw this generation of the spec; provision it unless already done. */
export const reconcileSignal = defineSignal<[{ generation: number }]>('reconcile');
/** The SymbolNode was deleted: owner references clean up the objects; this workflow ends. */
export const nodeDeletedSignal = defineSignal('nodeDeleted');

/** What the pod watcher sees of the node's pod: a problem (the most severe) or none. */
export interface PodHealthReport {
  pod: string;
  /** Absent in reports sent before it was added. */
  podUid?: string;
  podReady: boolean;
  problem?: ReportedProblem;
}
export const podHealthSignal = defineSignal<[PodHealthReport]>('podHealth');
/** A person lets the operator act again after it gave up (`temporal workflow signal --name resume` or the CLI). */
export const resumeSignal = defineSignal<[{ by?: string }?]>('resume');

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
}
export const lifecycleStateQuery = defineQuery<NodeLifecycleState>('state');

export interface NodeLifecycleInput {
  ref: NodeRef;
  network: string;
  /** First delay before re-trying a provisioning that failed for a reason fixed outside the spec; doubles up to 10 min. */
  retryFailedAfterMs?: number;
  remediation?: Partial<RemediationPolicy>;
  state?: NodeLifecycleState;
}

const maxRetryDelayMs = 10 * 60_000;

export function nodeLifecycleWorkflowId(ref: NodeRef): string {
  return `symbolnode/${ref.namespace}/${ref.name}/${ref.uid}`;
}

// Keeps each run's history small; the state carries over.
const operationsPerRun = 50;

const { reportNodeStatus } = proxyLocalActivities<NodeActivities>({
  startToCloseTimeout: '60 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

// The webhook notifier retries delivery itself; a few more attempts cover a Secret read failing.
const { sendAlert } = proxyActivities<NodeActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

const imagePullHint = (state: NodeLifecycleState, generation: number): string => {
  const ready = state.lastReady;
  if (!ready?.image || generation <= ready.generation) return '';
  return `; the image changed after generation ${ready.generation}, which ran ${ready.image}: set spec.image back to roll back`;
};

/**
 * Records a pod problem on the SymbolNode (Degraded, Ready=False, a Warning Event), or its end.
 * Healthy reports only matter when they clear a recorded problem: readiness itself is provisioning's.
 */
async function recordPodHealth(
  ref: NodeRef,
  state: NodeLifecycleState,
  report: PodHealthReport,
  generation = state.handledGeneration,
): Promise<void> {
  const previous = state.podHealth;
  state.podHealth = report;
  if (generation === 0) return;
  if (report.problem) {
    const { reason } = report.problem;
    const message =
      report.problem.message + (report.problem.kind === 'ImagePull' ? imagePullHint(state, generation) : '');
    state.readyFalseFromPod = true;
    await reportNodeStatus(ref, {
      generation,
      conditions: [
        { type: 'Degraded', status: 'True', reason, message },
        { type: 'Ready', status: 'False', reason, message },
      ],
      event: { type: 'Warning', reason, message: `pod ${report.pod}: ${message}` },
    });
    return;
  }
  const readyCondition = report.podReady
    ? ({ type: 'Ready', status: 'True', reason: 'NodeReady', message: 'the node pod is Ready' } as const)
    : ({ type: 'Ready', status: 'False', reason: 'PodNotReady', message: `pod ${report.pod} is not Ready` } as const);
  if (previous?.problem) {
    state.readyFalseFromPod = !report.podReady;
    await reportNodeStatus(ref, {
      generation,
      conditions: [
        { type: 'Degraded', status: 'False', reason: 'Healthy', message: 'the node pod has no known problem' },
        readyCondition,
      ],
      event: { type: 'Normal', reason: 'Healthy', message: `pod ${report.pod}: ${previous.problem.reason} is over` },
    });
  } else if (state.readyFalseFromPod && report.podReady) {
    state.readyFalseFromPod = false;
    await reportNodeStatus(ref, { generation, conditions: [readyCondition] });
  }
}

/**
 * Gives up on the node until the spec changes or a person resumes: Degraded with the reason and what to do,
 * one Event and one alert. Repairing it again and again would only thrash the node and hide the problem.
 */
async function escalate(ref: NodeRef, state: NodeLifecycleState, reason: string, message: string): Promise<void> {
  const remediation = (state.remediation ??= { runs: 0, recentStarts: [] });
  remediation.escalated = { reason, message };
  const action = `the operator stopped acting on its own; fix the cause, then change the spec or resume: npm run cli -- resume ${ref.namespace}/${ref.name}`;
  state.readyFalseFromPod = true;
  await reportNodeStatus(ref, {
    generation: state.handledGeneration,
    conditions: [
      { type: 'Degraded', status: 'True', reason, message: `${message}; ${action}` },
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason, message: action },
    ],
    event: { type: 'Warning', reason, message: `${message}; ${action}` },
  });
  await sendAlert({ ref, severity: 'critical', reason, message: `${message}; ${action}` });
}

/**
 * One long-lived workflow per SymbolNode. It serialises every operation on that node — provisioning,
 * remediation, later upgrades and rotation — so two of them never run at once, however many watcher events
 * or operator replicas ask for them.
 */
export async function nodeLifecycle(input: NodeLifecycleInput): Promise<NodeLifecycleState> {
  const state: NodeLifecycleState = input.state ?? { requestedGeneration: 0, handledGeneration: 0, deleted: false };
  const policy: RemediationPolicy = { ...DEFAULT_REMEDIATION_POLICY, ...input.remediation };
  setHandler(reconcileSignal, ({ generation }) => {
    state.requestedGeneration = Math.max(state.requestedGeneration, generation);
  });
  setHandler(nodeDeletedSignal, () => {
    state.deleted = true;
  });
  setHandler(lifecycleStateQuery, () => state);
  let pendingHealth: PodHealthReport | undefined = state.carriedOver?.podHealth;
  setHandler(podHealthSignal, (report) => {
    pendingHealth = report;
  });
  let resumeRequested = state.carriedOver?.resume ?? false;
  state.carriedOver = undefined;
  setHandler(resumeSignal, () => {
    resumeRequested = true;
  });

  const workflowId = workflowInfo().workflowId;
  const searchAttributes = (action: string) => [
    { key: symbolNodeKey, value: `${input.ref.namespace}/${input.ref.name}` },
    { key: kubernetesNamespaceKey, value: input.ref.namespace },
    { key: symbolNetworkKey, value: input.network },
    { key: nodeActionKey, value: action },
  ];
  const provisioningWanted = (): boolean => state.requestedGeneration > state.handledGeneration;

  /**
   * Runs the recovery the report calls for, within the policy's limits. Unless the problem is `alreadyRecorded`
   * on the SymbolNode, the remediation child records it with its first report, so that the remediation starts
   * at once: a workflow task that runs a local activity sends its commands (the child's start) only at its end.
   * When no child starts right away (escalation, a pause first), the problem is recorded here.
   */
  async function remediate(
    report: PodHealthReport & { problem: ReportedProblem },
    alreadyRecorded = false,
  ): Promise<void> {
    const remediation = (state.remediation ??= { runs: 0, recentStarts: [] });
    const recordHere = async () => {
      if (!alreadyRecorded) await recordPodHealth(input.ref, state, report);
    };
    if (remediation.escalated) return recordHere();
    const now = Date.now();
    remediation.recentStarts = remediation.recentStarts.filter((t) => now - t < policy.windowMs);
    const tries = remediation.recentStarts.length;
    if (tries >= policy.maxRemediations) {
      const message = `${tries} remediations within ${Math.round(policy.windowMs / 60_000)} min did not keep the node up; last problem: ${report.problem.message}`;
      await recordHere();
      await escalate(input.ref, state, 'RemediationExhausted', message);
      return;
    }
    if (tries > 0) {
      // A node that fails again soon after a recovery gets a pause first; a spec change or deletion cuts it short.
      await recordHere();
      if (await condition(() => state.deleted || provisioningWanted(), backoffDelayMs(policy, tries))) return;
    }
    remediation.recentStarts.push(Date.now());
    const run = ++remediation.runs;
    const recordProblem = !alreadyRecorded && tries === 0;
    if (recordProblem) {
      state.podHealth = report;
      state.readyFalseFromPod = true;
    }
    const outcome = await executeChild(remediateNode, {
      workflowId: `${workflowId}/remediate/${run}`,
      args: [
        {
          ref: input.ref,
          generation: state.handledGeneration,
          run,
          pod: report.pod,
          problem: report.problem,
          policy,
          ...(recordProblem ? { recordProblem } : {}),
        },
      ],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      typedSearchAttributes: searchAttributes('remediate'),
    });
    if (report.podUid) remediation.replacedPodUid = report.podUid;
    if (outcome.outcome === 'Gone') state.deleted = true;
    else if (outcome.outcome === 'Failed') await escalate(input.ref, state, outcome.reason, outcome.message);
  }

  /** Records a report; acts on it when the node is provisioned and the operator has not given up on it. */
  async function handlePodHealth(report: PodHealthReport): Promise<void> {
    if (report.podUid !== undefined && report.podUid === state.remediation?.replacedPodUid) return;
    const problem = report.problem;
    const provisioned = state.handledGeneration > 0 && state.lastOutcome?.outcome === 'Ready';
    if (problem && provisioned && remediationFor(problem) === 'recover' && patched('remediation-records-the-problem')) {
      await remediate({ ...report, problem });
      return;
    }
    await recordPodHealth(input.ref, state, report);
    if (!problem || !provisioned) return;
    if (remediationFor(problem) === 'recover') {
      await remediate({ ...report, problem }, true);
    } else {
      // The operator cannot fix this one: a person must know. The notifier drops repeats of the same reason.
      if (!state.remediation?.escalated) {
        await sendAlert({ ref: input.ref, severity: 'critical', reason: problem.reason, message: problem.message });
      }
    }
  }

  let operations = 0;
  async function continueAsNewWhenDue(): Promise<void> {
    if (++operations < operationsPerRun && !workflowInfo().continueAsNewSuggested) return;
    await condition(allHandlersFinished);
    await continueAsNew<typeof nodeLifecycle>({
      ...input,
      state: { ...state, carriedOver: { podHealth: pendingHealth, resume: resumeRequested } },
    });
  }

  const firstRetryDelayMs = input.retryFailedAfterMs ?? 60_000;
  let retryDelayMs = firstRetryDelayMs;
  while (!state.deleted) {
    const outcome = state.lastOutcome;
    const retry = outcome?.outcome === 'Failed' && retriesLater(outcome.reason);
    const wanted = (): boolean =>
      state.deleted || provisioningWanted() || pendingHealth !== undefined || resumeRequested;
    // condition() without a timeout resolves only when `wanted` holds; with one, it says whether it did.
    const changed = retry ? await condition(wanted, retryDelayMs) : (await condition(wanted), true);
    if (state.deleted) break;
    if (resumeRequested && !provisioningWanted()) {
      resumeRequested = false;
      const remediation = state.remediation;
      if (remediation) {
        remediation.escalated = undefined;
        remediation.recentStarts = [];
        remediation.replacedPodUid = undefined;
      }
      await reportNodeStatus(input.ref, {
        generation: state.handledGeneration,
        conditions: [],
        event: { type: 'Normal', reason: 'Resumed', message: 'a person resumed the operator on this node' },
      });
      // Look at the pod again as it was last reported: the problem may still be there.
      pendingHealth ??= state.podHealth;
      continue;
    }
    if (pendingHealth !== undefined && !provisioningWanted()) {
      const report = pendingHealth;
      pendingHealth = undefined;
      await handlePodHealth(report);
      await continueAsNewWhenDue();
      continue;
    }
    retryDelayMs = changed ? firstRetryDelayMs : Math.min(retryDelayMs * 2, maxRetryDelayMs);
    const generation = state.requestedGeneration;
    const scope = new CancellationScope();
    const provisioning = scope.run(() =>
      executeChild(provisionNode, {
        workflowId: `${workflowId}/provision/${generation}`,
        args: [{ ref: input.ref, generation }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        typedSearchAttributes: searchAttributes('provision'),
      }),
    );
    let superseded = false;
    if (patched('pod-health-during-provisioning')) {
      // Provisioning waits for the pod, maybe for a long time: what goes wrong with the pod meanwhile (an image
      // that cannot be pulled) is reported at once, and a newer spec or a deletion does not wait for it.
      let finished = false;
      const done = provisioning.then(
        () => (finished = true),
        () => (finished = true),
      );
      const supersededNow = () => state.deleted || state.requestedGeneration > generation;
      while (!finished) {
        await condition(() => finished || pendingHealth !== undefined || supersededNow());
        if (finished) continue;
        if (supersededNow()) {
          superseded = true;
          scope.cancel();
          break;
        }
        if (pendingHealth === undefined) continue;
        const report = pendingHealth;
        pendingHealth = undefined;
        // A healthy pod is provisioning's own business, unless it ends a problem recorded meanwhile.
        if (report.problem || state.podHealth?.problem) await recordPodHealth(input.ref, state, report, generation);
        else state.podHealth = report;
      }
      await done;
    }
    try {
      state.lastOutcome = await provisioning;
    } catch (error) {
      if (!superseded) throw error;
      const message = state.deleted
        ? 'the SymbolNode was deleted'
        : `generation ${state.requestedGeneration} replaced it`;
      state.lastOutcome = {
        outcome: 'Failed',
        reason: 'Superseded',
        message: `provisioning generation ${generation} stopped: ${message}`,
      };
    }
    state.handledGeneration = generation;
    if (state.lastOutcome.outcome === 'Ready') {
      state.lastReady = { generation, image: state.lastOutcome.image };
      // A new spec is a person's answer to an escalation.
      if (state.remediation) {
        state.remediation.escalated = undefined;
        state.remediation.recentStarts = [];
      }
    }
    if (state.lastOutcome.outcome === 'Gone') state.deleted = true;
    await continueAsNewWhenDue();
  }
  return state;
}
