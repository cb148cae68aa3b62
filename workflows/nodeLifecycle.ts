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
} from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import type { NodeRef } from '../activities/types.js';
import { provisionNode, type ProvisionOutcome } from './provisionNode.js';
import { nodeActionKey, symbolNodeKey, kubernetesNamespaceKey, symbolNetworkKey } from './searchAttributes.js';

/** The watcher saw this generation of the spec; provision it unless already done. */
export const reconcileSignal = defineSignal<[{ generation: number }]>('reconcile');
/** The SymbolNode was deleted: owner references clean up the objects; this workflow ends. */
export const nodeDeletedSignal = defineSignal('nodeDeleted');

/** What the pod watcher sees of the node's pod: a problem (the most severe) or none. */
export interface PodHealthReport {
  pod: string;
  podReady: boolean;
  problem?: { reason: string; message: string; uncleanStop: boolean; remediable: boolean };
}
export const podHealthSignal = defineSignal<[PodHealthReport]>('podHealth');

export interface NodeLifecycleState {
  requestedGeneration: number;
  handledGeneration: number;
  lastOutcome?: ProvisionOutcome;
  deleted: boolean;
  /** The pod health last recorded on the SymbolNode. */
  podHealth?: PodHealthReport;
  /** Ready=False on the SymbolNode was written from a pod report, so a Ready pod must set it back. */
  readyFalseFromPod?: boolean;
}
export const lifecycleStateQuery = defineQuery<NodeLifecycleState>('state');

export interface NodeLifecycleInput {
  ref: NodeRef;
  network: string;
  /** First delay before re-trying a provisioning that failed for a reason fixed outside the spec; doubles up to 10 min. */
  retryFailedAfterMs?: number;
  state?: NodeLifecycleState;
}

// Failures a person fixes without editing the SymbolNode (by creating the Secret or package it
// names, or when a download source comes back): worth another try now and then.
const externallyFixable = new Set([
  'IdentitySecretNotFound',
  'IdentityKeyMissing',
  'InvalidIdentityKey',
  'MissingFile',
  'ChecksumMismatch',
  'SourceUnavailable',
]);
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

/**
 * Records a pod problem on the SymbolNode (Degraded, Ready=False, a Warning Event), or its end.
 * Healthy reports only matter when they clear a recorded problem: readiness itself is provisioning's.
 */
async function recordPodHealth(ref: NodeRef, state: NodeLifecycleState, report: PodHealthReport): Promise<void> {
  const previous = state.podHealth;
  state.podHealth = report;
  if (state.handledGeneration === 0) return;
  const generation = state.handledGeneration;
  if (report.problem) {
    const { reason, message } = report.problem;
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
 * One long-lived workflow per SymbolNode. It serialises every operation on that node — today
 * provisioning; later upgrades, recovery and rotation — so two of them never run at once, however
 * many watcher events or operator replicas ask for them.
 */
export async function nodeLifecycle(input: NodeLifecycleInput): Promise<NodeLifecycleState> {
  const state: NodeLifecycleState = input.state ?? { requestedGeneration: 0, handledGeneration: 0, deleted: false };
  setHandler(reconcileSignal, ({ generation }) => {
    state.requestedGeneration = Math.max(state.requestedGeneration, generation);
  });
  setHandler(nodeDeletedSignal, () => {
    state.deleted = true;
  });
  setHandler(lifecycleStateQuery, () => state);
  let pendingHealth: PodHealthReport | undefined;
  setHandler(podHealthSignal, (report) => {
    pendingHealth = report;
  });

  const workflowId = workflowInfo().workflowId;
  const firstRetryDelayMs = input.retryFailedAfterMs ?? 60_000;
  let retryDelayMs = firstRetryDelayMs;
  let operations = 0;
  while (!state.deleted) {
    const outcome = state.lastOutcome;
    const retry = outcome?.outcome === 'Failed' && externallyFixable.has(outcome.reason);
    const provisioningWanted = (): boolean => state.requestedGeneration > state.handledGeneration;
    const wanted = (): boolean => state.deleted || provisioningWanted() || pendingHealth !== undefined;
    // condition() without a timeout resolves only when `wanted` holds; with one, it says whether it did.
    const changed = retry ? await condition(wanted, retryDelayMs) : (await condition(wanted), true);
    if (state.deleted) break;
    if (pendingHealth !== undefined && !provisioningWanted()) {
      const report = pendingHealth;
      pendingHealth = undefined;
      await recordPodHealth(input.ref, state, report);
      continue;
    }
    retryDelayMs = changed ? firstRetryDelayMs : Math.min(retryDelayMs * 2, maxRetryDelayMs);
    const generation = state.requestedGeneration;
    state.lastOutcome = await executeChild(provisionNode, {
      workflowId: `${workflowId}/provision/${generation}`,
      args: [{ ref: input.ref, generation }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      typedSearchAttributes: [
        { key: symbolNodeKey, value: `${input.ref.namespace}/${input.ref.name}` },
        { key: kubernetesNamespaceKey, value: input.ref.namespace },
        { key: symbolNetworkKey, value: input.network },
        { key: nodeActionKey, value: 'provision' },
      ],
    });
    state.handledGeneration = generation;
    if (state.lastOutcome.outcome === 'Gone') state.deleted = true;
    if (++operations >= operationsPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof nodeLifecycle>({ ...input, state });
    }
  }
  return state;
}
