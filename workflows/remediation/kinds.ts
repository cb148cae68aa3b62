/**
 * The kinds of pod problem, their severity and the exit codes that tell a clean stop from an unclean one. Pure
 * code: the pod watcher, the workflows and the tests share it (classify.ts explains the model).
 */
import type { V1ContainerStateTerminated } from '@kubernetes/client-node';
import { CONTAINERS } from '../../k8s/objects/layout.js';

export const POD_PROBLEM_KINDS = [
  'PodFailed',
  'CrashLoop',
  'ContainerError',
  'ImagePull',
  'ConfigError',
  'OOMKilled',
  'UncleanExit',
  'RestartsRising',
  'StuckOnLostNode',
  'MongoDown',
  'BrokerDown',
] as const;
export type PodProblemKind = (typeof POD_PROBLEM_KINDS)[number];

export interface PodProblem {
  kind: PodProblemKind;
  /** The container concerned; absent for pod-level problems (PodFailed, StuckOnLostNode). */
  container?: string;
  /** CamelCase, usable as a condition or Event reason; stable for the same cause (see {@link problemKey}). */
  reason: string;
  /** One line for people: names the container, exit code and Kubernetes reason. */
  message: string;
  /** catapult's data may need `catapult.recovery`: crash, OOM, SIGKILL, stale lock (exit 253), node loss. */
  uncleanStop: boolean;
  /** false when restarting cannot help (image, configuration): report only, no restart loops. */
  remediable: boolean;
  /** The exit code of the termination behind the problem, when there is one (unsigned: −3 is 253). */
  exitCode?: number;
  /** The container's restart count when observed. */
  restartCount?: number;
}

export interface ClassifyContext {
  /**
   * Ready condition of a Kubernetes node: true, false, or undefined when unknown (status Unknown, node
   * missing). Without this function nodes are not judged and StuckOnLostNode is never reported.
   */
  nodeReady?: (nodeName: string) => boolean | undefined;
  /**
   * Since when a Kubernetes node has not been Ready (its Ready condition's lastTransitionTime), if it is not.
   * With {@link lostNodeGraceMs}, a pod on a node NotReady for longer counts as lost even before it is evicted.
   */
  nodeNotReadySince?: (nodeName: string) => Date | undefined;
  lostNodeGraceMs?: number;
  now: Date;
  /**
   * Restart counts seen at the previous classification of the *same pod* (same uid; see {@link restartCounts}).
   * A container whose count is higher now is restarting (RestartsRising), and its `lastState` is news.
   */
  previousRestarts?: Record<string, number>;
  /**
   * `lastState.terminated` of a container that runs again is sticky: kubelet keeps it until the next
   * termination. It counts only if it finished within this window, the restart count rose, or the container
   * is not running. Default {@link DEFAULT_RECENT_TERMINATION_MS}.
   */
  recentTerminationMs?: number;
}

export const DEFAULT_RECENT_TERMINATION_MS = 10 * 60_000;

/** catapult's exit status when it cannot acquire `<data>/<process>.lock`: −3 as an unsigned byte. */
export const EXIT_INSTANCE_LOCK = 253;
/** 128 + SIGKILL: OOM killer, a failed liveness probe, or the grace period running out. */
export const EXIT_SIGKILL = 137;
/** 128 + SIGTERM: catapult, MongoDB and REST shut down cleanly on SIGTERM. */
export const EXIT_SIGTERM = 143;
export const CLEAN_EXIT_CODES: readonly number[] = [0, EXIT_SIGTERM];

/**
 * Most severe first. Non-remediable problems rank high because only a person can clear them, so the
 * `Degraded` condition should name them rather than a symptom the operator is already fixing.
 *
 * 1. StuckOnLostNode: the Kubernetes node is gone; nothing runs and the StatefulSet will not replace the pod
 *    until it is force-deleted; catapult stopped uncleanly.
 * 2. PodFailed: the pod is terminal; nothing runs.
 * 3. ConfigError: a container cannot be created (missing Secret/ConfigMap key); needs a person.
 * 4. ImagePull: a container's image cannot be pulled; needs a person.
 * 5. OOMKilled: killed for memory, data unclean, and it recurs until the limits change.
 * 6. CrashLoop: a container keeps failing; kubelet backs off up to 5 minutes.
 * 7. UncleanExit: a non-zero exit (stale lock 253, SIGKILL 137, other); leaves lock files behind.
 * 8. ContainerError: the runtime could not create or start a container.
 * 9. MongoDown: an API node's MongoDB is down; the broker aborts, REST fails, the server keeps spooling.
 * 10. BrokerDown: an API node's broker is down; MongoDB and REST go stale, the server is fine.
 * 11. RestartsRising: restarts with clean exits; informational.
 *
 * Ties (same kind) go to the more important container: server, broker, mongo, recovery, then the rest.
 */
export const SEVERITY_ORDER: readonly PodProblemKind[] = [
  'StuckOnLostNode',
  'PodFailed',
  'ConfigError',
  'ImagePull',
  'OOMKilled',
  'CrashLoop',
  'UncleanExit',
  'ContainerError',
  'MongoDown',
  'BrokerDown',
  'RestartsRising',
];

const CONTAINER_ORDER: readonly string[] = [
  CONTAINERS.server,
  CONTAINERS.broker,
  CONTAINERS.mongo,
  CONTAINERS.recovery,
  CONTAINERS.rest,
  CONTAINERS.seedInit,
  CONTAINERS.mongoInit,
];

/** 0 is the most severe. */
export function severityRank(kind: PodProblemKind): number {
  return SEVERITY_ORDER.indexOf(kind);
}

/** Sorts most severe first: by kind, then by container importance, then by container name. */
export function compareProblems(a: PodProblem, b: PodProblem): number {
  const byKind = severityRank(a.kind) - severityRank(b.kind);
  if (byKind !== 0) return byKind;
  const rank = (c: string | undefined): number => {
    if (c === undefined) return -1;
    const i = CONTAINER_ORDER.indexOf(c);
    return i === -1 ? CONTAINER_ORDER.length : i;
  };
  const byContainer = rank(a.container) - rank(b.container);
  if (byContainer !== 0) return byContainer;
  return (a.container ?? '').localeCompare(b.container ?? '');
}

/**
 * A stable identity for dedupe: kind, container and reason, never the message, counts or times. The same
 * crash loop observed again has the same key; the caller forgets a key once the problem is no longer reported.
 */
export function problemKey(problem: PodProblem): string {
  return `${problem.kind}/${problem.container ?? '-'}/${problem.reason}`;
}

/** The exit status as the container runtime reports it: unsigned, so catapult's −3 is 253. */
export function unsignedExitCode(code: number): number {
  return ((Math.trunc(code) % 256) + 256) % 256;
}

/** True when the termination may have left catapult's data or lock files behind. */
export function isUncleanTermination(t: V1ContainerStateTerminated): boolean {
  if (t.reason === 'OOMKilled') return true;
  return !CLEAN_EXIT_CODES.includes(unsignedExitCode(t.exitCode));
}
