import { lifecycleStateQuery, type NodeLifecycleState } from '../workflows/nodeLifecycle.js';
import type { Lifecycle } from './lifecycle.js';

/** `status`: the lifecycle workflow's `state` query, as lines a person reads. */
export async function status(lifecycle: Lifecycle): Promise<string[]> {
  const state = await lifecycle.call('status', (handle) => handle.query(lifecycleStateQuery));
  return formatStatus(lifecycle.ref, lifecycle.workflowId, state);
}

export function formatStatus(
  ref: { namespace: string; name: string; uid: string },
  workflowId: string,
  state: NodeLifecycleState,
): string[] {
  const { requestedGeneration: requested, handledGeneration: handled } = state;
  const outcome = state.lastOutcome;
  const remediation = state.remediation;
  const pod = state.podHealth;
  const lines: [string, string][] = [
    ['SymbolNode', `${ref.namespace}/${ref.name} (uid ${ref.uid})${state.deleted ? ', deleted' : ''}`],
    ['workflow', workflowId],
    [
      'generation',
      `${handled} handled, ${requested} requested${requested > handled ? ` (generation ${requested} pending)` : ''}`,
    ],
    [
      'last outcome',
      !outcome
        ? 'none yet'
        : outcome.outcome === 'Ready'
          ? `Ready${outcome.image ? ` (image ${outcome.image})` : ''}`
          : `${outcome.outcome}: ${outcome.reason}: ${outcome.message}`,
    ],
  ];
  if (state.lastReady) {
    const image = state.lastReady.image ? `, image ${state.lastReady.image}` : '';
    lines.push(['last Ready', `generation ${state.lastReady.generation}${image}`]);
  }
  lines.push(['remediation runs', String(remediation?.runs ?? 0)]);
  const escalated = remediation?.escalated;
  lines.push([
    'escalated',
    escalated
      ? `${escalated.reason}: ${escalated.message} (after fixing the cause: npm run cli -- resume ${ref.name} -n ${ref.namespace})`
      : 'no',
  ]);
  lines.push([
    'pod health',
    !pod
      ? 'not reported yet'
      : `${pod.pod} ${pod.podReady ? 'Ready' : 'not Ready'}${pod.problem ? `, ${pod.problem.reason}: ${pod.problem.message}` : ', no problem'}`,
  ]);
  const width = Math.max(...lines.map(([key]) => key.length)) + 2;
  return lines.map(([key, value]) => `${`${key}:`.padEnd(width)}${value}`);
}
