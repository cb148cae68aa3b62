import {
  condition,
  continueAsNew,
  ContinueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  ParentClosePolicy,
  setHandler,
  workflowInfo,
  allHandlersFinished,
  CancellationScope,
  isCancellation,
  patched,
  ApplicationFailure,
  TemporalFailure,
} from '@temporalio/workflow';
import type { NodeRef } from '../activities/types.js';
import { outageQuery } from './durableStep.js';
import { handlePodHealth, type RemediationContext } from './lifecycleRemediation.js';
import type { NodeLifecycleInput, NodeLifecycleState, PodHealthReport } from './lifecycleState.js';
import { afterInterruption, lifecycleSteps } from './lifecycleSteps.js';
import { recordPodHealth } from './podHealth.js';
import { provisionNode } from './provisionNode.js';
import { retriesLater } from './remediation/failureRules.js';
import { DEFAULT_REMEDIATION_POLICY, type RemediationPolicy } from './remediation/policy.js';
import { nodeActionKey, symbolNodeKey, kubernetesNamespaceKey, symbolNetworkKey } from './searchAttributes.js';

export type {
  AlertedState,
  NodeLifecycleInput,
  NodeLifecycleState,
  PodHealthReport,
  RemediationState,
} from './lifecycleState.js';

/** The watcher saw this generation of the spec; provision it unless already done. */
export const reconcileSignal = defineSignal<[{ generation: number }]>('reconcile');
/** The SymbolNode was deleted: owner references clean up the objects; this workflow ends. */
export const nodeDeletedSignal = defineSignal('nodeDeleted');
export const podHealthSignal = defineSignal<[PodHealthReport]>('podHealth');
/** A person lets the operator act again after it gave up (`temporal workflow signal --name resume` or the CLI). */
export const resumeSignal = defineSignal<[{ by?: string }?]>('resume');
export const lifecycleStateQuery = defineQuery<NodeLifecycleState>('state');

const maxRetryDelayMs = 10 * 60_000;

export function nodeLifecycleWorkflowId(ref: NodeRef): string {
  return `symbolnode/${ref.namespace}/${ref.name}/${ref.uid}`;
}

// Keeps each run's history small; the state carries over.
const operationsPerRun = 50;

/** The SymbolNode is gone (a step found it deleted): the lifecycle ends instead of trying again. */
function nodeGone(error: unknown): boolean {
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof TemporalFailure; depth++) {
    if (cause instanceof ApplicationFailure && cause.type === 'NodeGone') return true;
    cause = cause.cause;
  }
  return false;
}

/**
 * One long-lived workflow per SymbolNode. It serialises every operation on that node — provisioning,
 * remediation, later upgrades and rotation — so two of them never run at once, however many watcher events
 * or operator replicas ask for them. It never fails: an outage is ridden out step by step (durableStep.ts), and
 * a child or step that ends without an outcome is recorded and tried again; only the node's deletion ends it.
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
  setHandler(outageQuery, () => state.outage);
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
  const steps = lifecycleSteps(input.ref, state, policy.realertMs);
  const searchAttributes = (action: string) => [
    { key: symbolNodeKey, value: `${input.ref.namespace}/${input.ref.name}` },
    { key: kubernetesNamespaceKey, value: input.ref.namespace },
    { key: symbolNetworkKey, value: input.network },
    { key: nodeActionKey, value: action },
  ];
  const provisioningWanted = (): boolean => state.requestedGeneration > state.handledGeneration;
  const remediation: RemediationContext = { steps, policy, workflowId, searchAttributes, provisioningWanted };

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

  /** Provisions the requested generation, reporting pod problems meanwhile. */
  async function provision(changed: boolean): Promise<void> {
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
        if (!report.problem && !state.podHealth?.problem) state.podHealth = report;
        else {
          try {
            await recordPodHealth(steps, report, generation);
          } catch (error) {
            // A refused write (an outage is waited out) must not leave the provisioning child running unwatched:
            // provisioning goes on, and the watcher's resync sends the report again.
            if (!patched('lifecycle-never-throws')) throw error;
          }
        }
      }
      await done;
    }
    try {
      state.lastOutcome = await provisioning;
      state.interruptions = 0;
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
  }

  /** Waits for something to do and does it: a resume, a pod report, or a provisioning. */
  async function next(): Promise<void> {
    const outcome = state.lastOutcome;
    const retry = outcome?.outcome === 'Failed' && retriesLater(outcome.reason);
    const wanted = (): boolean =>
      state.deleted || provisioningWanted() || pendingHealth !== undefined || resumeRequested;
    // condition() without a timeout resolves only when `wanted` holds; with one, it says whether it did.
    const changed = retry ? await condition(wanted, retryDelayMs) : (await condition(wanted), true);
    if (state.deleted) return;
    if (resumeRequested && !provisioningWanted()) {
      resumeRequested = false;
      const remediationState = state.remediation;
      if (remediationState) {
        remediationState.escalated = undefined;
        remediationState.recentStarts = [];
        remediationState.replacedPodUid = undefined;
      }
      await steps.report(
        'recording the resume',
        {
          generation: state.handledGeneration,
          conditions: [],
          event: { type: 'Normal', reason: 'Resumed', message: 'a person resumed the operator on this node' },
        },
        false,
      );
      // Look at the pod again as it was last reported: the problem may still be there.
      pendingHealth ??= state.podHealth;
      return;
    }
    if (pendingHealth !== undefined && !provisioningWanted()) {
      const report = pendingHealth;
      pendingHealth = undefined;
      await handlePodHealth(remediation, report);
      await continueAsNewWhenDue();
      return;
    }
    await provision(changed);
    await continueAsNewWhenDue();
  }

  while (!state.deleted) {
    try {
      await next();
    } catch (error) {
      if (error instanceof ContinueAsNew || isCancellation(error) || !patched('lifecycle-never-throws')) throw error;
      if (nodeGone(error)) {
        state.deleted = true;
        break;
      }
      const generation = state.requestedGeneration;
      const what = provisioningWanted() ? `provisioning generation ${generation}` : 'a lifecycle step';
      await afterInterruption(steps, what, error, () => state.deleted || state.requestedGeneration > generation);
    }
  }
  return state;
}
