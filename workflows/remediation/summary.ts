import type { ConditionUpdate } from '../../k8s/conditions.js';
import { compareProblems, type PodProblem } from './kinds.js';

export interface DegradedSummary {
  /** The most severe problem. */
  problem: PodProblem;
  /** The others, most severe first. */
  others: PodProblem[];
  /** `Degraded=True` with the most severe problem's reason; the others are listed in the message. */
  condition: ConditionUpdate;
}

/** Picks the most severe problem for the `Degraded` condition; undefined when there is none. */
export function summarise(problems: readonly PodProblem[]): DegradedSummary | undefined {
  const sorted = [...problems].sort(compareProblems);
  const [problem, ...others] = sorted;
  if (!problem) return undefined;
  const more =
    others.length === 0
      ? ''
      : `; also ${others.map((p) => (p.container ? `${p.reason} (${p.container})` : p.reason)).join(', ')}`;
  return {
    problem,
    others,
    condition: { type: 'Degraded', status: 'True', reason: problem.reason, message: problem.message + more },
  };
}
