import type { LifecycleSteps } from './lifecycleSteps.js';
import type { NodeLifecycleState, PodHealthReport } from './lifecycleState.js';

const imagePullHint = (state: NodeLifecycleState, generation: number): string => {
  const ready = state.lastReady;
  if (!ready?.image || generation <= ready.generation) return '';
  return `; the image changed after generation ${ready.generation}, which ran ${ready.image}: set spec.image back to roll back`;
};

/**
 * Records a pod problem on the SymbolNode (Degraded, Ready=False, a Warning Event), or its end.
 * Healthy reports only matter when they clear a recorded problem: readiness itself is provisioning's.
 */
export async function recordPodHealth(
  steps: LifecycleSteps,
  report: PodHealthReport,
  generation = steps.state.handledGeneration,
): Promise<void> {
  const { state } = steps;
  const previous = state.podHealth;
  state.podHealth = report;
  if (generation === 0) return;
  if (report.problem) {
    const { reason } = report.problem;
    const message =
      report.problem.message + (report.problem.kind === 'ImagePull' ? imagePullHint(state, generation) : '');
    state.readyFalseFromPod = true;
    await steps.report('recording a pod problem', {
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
    await steps.report('recording the end of a pod problem', {
      generation,
      conditions: [
        { type: 'Degraded', status: 'False', reason: 'Healthy', message: 'the node pod has no known problem' },
        readyCondition,
      ],
      event: { type: 'Normal', reason: 'Healthy', message: `pod ${report.pod}: ${previous.problem.reason} is over` },
    });
  } else if (state.readyFalseFromPod && report.podReady) {
    state.readyFalseFromPod = false;
    await steps.report('recording the pod Ready again', { generation, conditions: [readyCondition] });
  }
}
