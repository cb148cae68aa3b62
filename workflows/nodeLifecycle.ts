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
  state?: NodeLifecycleState;
}

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
  let operations = 0;
  while (!state.deleted) {
    await condition(() => state.deleted || state.requestedGeneration > state.handledGeneration);
    if (state.deleted) break;
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
