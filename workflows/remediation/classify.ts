/**
 * Classifies what is wrong with a SymbolNode's pod. Pure code: no API calls, no clock of its own (the caller
 * passes `now`), so the watcher, tests and workflows all get the same answer for the same pod.
 *
 * Pod layout (k8s/README.md): MongoDB, the server and the broker of API/dual nodes are native sidecars, i.e.
 * *init* containers with `restartPolicy: Always`, and REST is the regular container; on a peer node the server
 * is the regular container. Container statuses are therefore read from `initContainerStatuses` and
 * `containerStatuses` alike.
 *
 * One problem per container: a crash usually shows several symptoms at once (CrashLoopBackOff, the last
 * termination's exit code, a rising restart count, "broker down"), and each problem becomes an Event, a
 * condition reason and a signal to remediation. So per container the most severe symptom (see
 * {@link SEVERITY_ORDER}) is kept and the others are appended to its message; `uncleanStop` is true if any of
 * them says so. Pod-level problems (`PodFailed`, `StuckOnLostNode`) are reported in addition.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CONTAINERS, REPAIRS_LOCK_IN_PLACE_MARKER } from '../../k8s/objects/layout.js';
import {
  allStatuses,
  containerCandidates,
  dependencyDown,
  describeTermination,
  duration,
  holdsCatapultState,
  isDown,
  mergeCandidates,
  oneLine,
  toMillis,
} from './containers.js';
import { compareProblems, isUncleanTermination, type ClassifyContext, type PodProblem } from './kinds.js';

/** Restart counts per container (init and regular): pass them as `previousRestarts` next time. */
export function restartCounts(pod: V1Pod): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const cs of allStatuses(pod)) counts[cs.name] = cs.restartCount ?? 0;
  return counts;
}

/**
 * True when the container's start repairs a stale lock itself (a peer's server, k8s/objects/layout.ts): its crash
 * heals on the kubelet's in-place restart, so the operator's recovery is needed only when that restart fails too.
 */
export function repairsLockInPlace(pod: V1Pod, container: string): boolean {
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === container);
  return (spec?.command ?? []).some((part) => part.includes(REPAIRS_LOCK_IN_PLACE_MARKER));
}

export function classifyPod(pod: V1Pod, context: ClassifyContext): PodProblem[] {
  const problems: PodProblem[] = [];
  const lost = stuckOnLostNode(pod, context);
  if (lost) problems.push(lost);
  if (pod.status?.phase === 'Failed') problems.push(podFailed(pod));

  const deleting = pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  const statuses = allStatuses(pod);
  const server = statuses.find((cs) => cs.name === CONTAINERS.server);
  const serverRuns = server?.state?.running !== undefined && server.state.running !== null;
  for (const cs of statuses) {
    const candidates = containerCandidates(cs, context, deleting, repairsLockInPlace(pod, cs.name));
    if (serverRuns && !deleting && isDown(cs)) {
      if (cs.name === CONTAINERS.mongo) candidates.push(dependencyDown(cs, 'MongoDown'));
      if (cs.name === CONTAINERS.broker) candidates.push(dependencyDown(cs, 'BrokerDown'));
    }
    const merged = mergeCandidates(cs, candidates);
    if (merged) problems.push(merged);
  }
  return problems.sort(compareProblems);
}

function podFailed(pod: V1Pod): PodProblem {
  const name = pod.metadata?.name ?? 'pod';
  const why = pod.status?.reason ? ` (${pod.status.reason})` : '';
  const detail = oneLine(pod.status?.message);
  const statuses = allStatuses(pod);
  const failures: string[] = [];
  for (const cs of statuses) {
    const t = cs.state?.terminated ?? cs.lastState?.terminated;
    if (t && isUncleanTermination(t)) failures.push(`${cs.name} ${describeTermination(cs.name, t, 'exited')}`);
  }
  // Unknown terminations of catapult's processes count as unclean: better one recovery run too many.
  const uncleanStop =
    statuses.length === 0 ||
    statuses.some((cs) => {
      if (!holdsCatapultState(cs.name)) return false;
      const t = cs.state?.terminated ?? cs.lastState?.terminated;
      return t === undefined || isUncleanTermination(t);
    });
  const parts = [`pod ${name} failed${why}${detail ? `: ${detail}` : ''}`, ...failures];
  return { kind: 'PodFailed', reason: 'PodFailed', message: parts.join('; '), uncleanStop, remediable: true };
}

function stuckOnLostNode(pod: V1Pod, context: ClassifyContext): PodProblem | undefined {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName || !context.nodeReady) return undefined;
  const ready = context.nodeReady(nodeName);
  if (ready === true) return undefined;
  const name = pod.metadata?.name ?? 'pod';
  const nodeState = ready === false ? 'NotReady' : 'in an unknown state';
  const now = context.now.getTime();
  const deletion = toMillis(pod.metadata?.deletionTimestamp);
  let what: string;
  if (deletion !== undefined) {
    // deletionTimestamp is the end of the grace period: before it a kubelet may still be stopping the pod.
    if (now < deletion) return undefined;
    what = `has been Terminating for ${duration(now - deletion)} past its grace period`;
  } else if (pod.status?.phase === 'Unknown') {
    what = 'is in phase Unknown';
  } else {
    const since = toMillis(context.nodeNotReadySince?.(nodeName));
    if (since === undefined || context.lostNodeGraceMs === undefined || now - since < context.lostNodeGraceMs) {
      return undefined;
    }
    what = `has been unreachable for ${duration(now - since)}`;
  }
  return {
    kind: 'StuckOnLostNode',
    reason: 'NodeLost',
    message: `pod ${name} ${what} on node ${nodeName}, which is ${nodeState}; the StatefulSet will not replace it until it is force-deleted`,
    uncleanStop: true,
    remediable: true,
  };
}
