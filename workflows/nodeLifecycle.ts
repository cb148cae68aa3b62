import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  ParentClosePolicy,
  setHandler,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { NodeRef } from '../activities/types.js';
import { provisionNode, type ProvisionOutcome } from './provisionNode.js';
import { nodeActionKey, symbolNodeKey, kubernetesNamespaceKey, symbolNetworkKey } from './searchAttributes.js';

/** The watcher saw this generation of the spec; provision it unless already done. */
export const reconcileSignal = defineSignal<[{ generation: number }]>('reconcile');
/** The SymbolNode was deleted: owner references clean up the objects; this workflow ends. */
export const nodeDeletedSignal = defineSignal('nodeDeleted');

export interface NodeLifecycleState {
  requestedGeneration: number;
  handledGeneration: number;
  lastOutcome?: ProvisionOutcome;
  deleted: boolean;
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

  const workflowId = workflowInfo().workflowId;
  const firstRetryDelayMs = input.retryFailedAfterMs ?? 60_000;
  let retryDelayMs = firstRetryDelayMs;
  let operations = 0;
  while (!state.deleted) {
    const outcome = state.lastOutcome;
    const retry = outcome?.outcome === 'Failed' && externallyFixable.has(outcome.reason);
    const wanted = (): boolean => state.deleted || state.requestedGeneration > state.handledGeneration;
    // condition() without a timeout resolves only when `wanted` holds; with one, it says whether it did.
    const changed = retry ? await condition(wanted, retryDelayMs) : (await condition(wanted), true);
    if (state.deleted) break;
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
