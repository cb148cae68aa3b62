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
import type { V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ConditionUpdate } from '../k8s/conditions.js';
import { CONTAINERS, REPAIRS_LOCK_IN_PLACE_MARKER } from '../k8s/objects/layout.js';
import { summariseTerminationMessage } from './terminationMessage.js';

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

/** Containers whose unclean stop cannot leave catapult's data needing recovery. */
const STATELESS_CONTAINERS: readonly string[] = [CONTAINERS.rest, CONTAINERS.seedInit, CONTAINERS.mongoInit];

const LOCK_FILES: Record<string, string> = {
  [CONTAINERS.server]: 'server.lock',
  [CONTAINERS.broker]: 'broker.lock',
  [CONTAINERS.recovery]: 'recovery.lock',
};

const MAX_DETAIL = 200;

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

/** Restart counts per container (init and regular): pass them as `previousRestarts` next time. */
export function restartCounts(pod: V1Pod): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const cs of allStatuses(pod)) counts[cs.name] = cs.restartCount ?? 0;
  return counts;
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

// ---------------------------------------------------------------------------------------------------------

interface Candidate extends Omit<PodProblem, 'message'> {
  /** What this symptom adds when another one of the same container is reported. */
  fragment: string;
}

function allStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function toMillis(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = (value instanceof Date ? value : new Date(value)).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

function oneLine(text: string | undefined, max = MAX_DETAIL): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round(m / 60)}h`;
}

function holdsCatapultState(container: string): boolean {
  return !STATELESS_CONTAINERS.includes(container);
}

function isLockError(t: V1ContainerStateTerminated): boolean {
  return unsignedExitCode(t.exitCode) === EXIT_INSTANCE_LOCK || /instance lock/i.test(t.message ?? '');
}

function describeTermination(container: string, t: V1ContainerStateTerminated, when: 'exited' | 'last exited') {
  const code = unsignedExitCode(t.exitCode);
  const why = [t.reason, t.signal ? `signal ${t.signal}` : undefined].filter(Boolean).join(', ');
  let text = `${when} with code ${code}${why ? ` (${why})` : ''}`;
  const lock = isLockError(t);
  if (lock) {
    const file = LOCK_FILES[container] ?? 'lock file';
    // Usually a lock left by an unclean stop; catapult's own words follow, for when the data is unreachable instead.
    text += `: catapult could not acquire its instance lock (stale ${file}), catapult.recovery must run`;
  } else if (code === EXIT_SIGKILL && t.reason !== 'OOMKilled') {
    text += ': killed by SIGKILL (liveness probe or grace period exceeded)';
  }
  const detail = summariseTerminationMessage(t.message);
  if (detail) text += `: ${detail}`;
  return text;
}

function uncleanReason(t: V1ContainerStateTerminated): string {
  const code = unsignedExitCode(t.exitCode);
  if (isLockError(t)) return 'StaleInstanceLock';
  if (code === EXIT_SIGKILL) return 'SigKilled';
  if (code > 128) return 'KilledBySignal';
  return 'NonZeroExit';
}

/**
 * The termination that tells why the container is (or was just) down, if it is still news. For a container that
 * repaired itself in place and runs again, only a rise of its restart count is news once a count is known: the
 * crash is then reported once, and cleared at the next look.
 */
function relevantTermination(
  cs: V1ContainerStatus,
  context: ClassifyContext,
  selfRepairing: boolean,
): { t: V1ContainerStateTerminated; current: boolean } | undefined {
  if (cs.state?.terminated) return { t: cs.state.terminated, current: true };
  const last = cs.lastState?.terminated;
  if (!last) return undefined;
  if (!cs.state?.running) return { t: last, current: false };
  const previous = context.previousRestarts?.[cs.name];
  if (previous !== undefined && (cs.restartCount ?? 0) > previous) return { t: last, current: false };
  if (selfRepairing && previous !== undefined) return undefined;
  const finished = toMillis(last.finishedAt);
  const window = context.recentTerminationMs ?? DEFAULT_RECENT_TERMINATION_MS;
  if (finished !== undefined && context.now.getTime() - finished <= window) return { t: last, current: false };
  return undefined;
}

const CONTAINER_ERROR_REASONS = [
  'Error',
  'CreateContainerError',
  'RunContainerError',
  'StartError',
  'ContainerCannotRun',
  'PreStartHookError',
  'PostStartHookError',
];

function containerCandidates(
  cs: V1ContainerStatus,
  context: ClassifyContext,
  deleting: boolean,
  selfRepairing: boolean,
): Candidate[] {
  const name = cs.name;
  const out: Candidate[] = [];
  const restarts = cs.restartCount ?? 0;
  const base = { container: name, restartCount: restarts };
  const term = relevantTermination(cs, context, selfRepairing);
  const stateful = holdsCatapultState(name);

  // The termination behind the current state (current, or the last one if it is still news).
  // While the pod is deleted only the shutdown itself is news (e.g. SIGKILL after the grace period).
  if (term && isUncleanTermination(term.t) && (term.current || !deleting)) {
    const code = unsignedExitCode(term.t.exitCode);
    let fragment = describeTermination(name, term.t, term.current ? 'exited' : 'last exited');
    const oom = term.t.reason === 'OOMKilled';
    // Just stopped (the kubelet restarts it now) or running again: its own start repairs a left lock. Waiting
    // in CrashLoopBackOff means that repair failed, and the operator's recovery takes over.
    const repairsItself = selfRepairing && !deleting && (term.current || cs.state?.running !== undefined);
    if (repairsItself) {
      fragment += term.current
        ? '; its restart in place runs catapult.recovery first if a lock file was left'
        : '; restarted in place (its start runs catapult.recovery first if a lock file was left)';
    }
    out.push({
      ...base,
      kind: oom ? 'OOMKilled' : 'UncleanExit',
      reason: oom ? 'OOMKilled' : uncleanReason(term.t),
      fragment,
      uncleanStop: stateful && !repairsItself,
      remediable: true,
      exitCode: code,
    });
  }
  if (deleting) return out; // shutting down: waiting states and restarts are expected

  const waiting = cs.state?.waiting;
  const waitingReason = waiting?.reason ?? '';
  const detail = oneLine(waiting?.message);
  if (waitingReason === 'CrashLoopBackOff') {
    const last = term?.t;
    out.push({
      ...base,
      kind: 'CrashLoop',
      reason: 'CrashLoopBackOff',
      fragment: `is in CrashLoopBackOff after ${restarts} restart${restarts === 1 ? '' : 's'}`,
      // Without a recorded termination assume the worst: the process keeps dying.
      uncleanStop: stateful && (last === undefined || isUncleanTermination(last)),
      remediable: true,
      ...(last ? { exitCode: unsignedExitCode(last.exitCode) } : {}),
    });
  } else if (['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName'].includes(waitingReason)) {
    out.push({
      ...base,
      kind: 'ImagePull',
      // ErrImagePull and ImagePullBackOff alternate while kubelet retries: one reason keeps the key stable.
      reason: waitingReason === 'InvalidImageName' ? 'InvalidImageName' : 'ImagePullBackOff',
      fragment: `cannot pull its image ${cs.image} (${waitingReason}${detail ? `: ${detail}` : ''})`,
      uncleanStop: false,
      remediable: false,
    });
  } else if (waitingReason === 'CreateContainerConfigError') {
    out.push({
      ...base,
      kind: 'ConfigError',
      reason: 'CreateContainerConfigError',
      fragment: `cannot be created (CreateContainerConfigError${detail ? `: ${detail}` : ''})`,
      uncleanStop: false,
      remediable: false,
    });
  } else if (CONTAINER_ERROR_REASONS.includes(waitingReason)) {
    out.push({
      ...base,
      kind: 'ContainerError',
      reason: waitingReason === 'Error' ? 'ContainerError' : waitingReason,
      fragment: `failed to start (${waitingReason}${detail ? `: ${detail}` : ''})`,
      uncleanStop: false,
      remediable: true,
    });
  }

  const previous = context.previousRestarts?.[name];
  if (previous !== undefined && restarts > previous) {
    const n = restarts - previous;
    out.push({
      ...base,
      kind: 'RestartsRising',
      reason: 'RestartsRising',
      fragment: `restarted ${n} time${n === 1 ? '' : 's'} since the last check (restart count ${previous} → ${restarts})`,
      uncleanStop: false,
      remediable: true,
    });
  }
  return out;
}

function isDown(cs: V1ContainerStatus): boolean {
  return !cs.ready || !cs.state?.running;
}

function dependencyDown(cs: V1ContainerStatus, kind: 'MongoDown' | 'BrokerDown'): Candidate {
  const state = cs.state?.terminated
    ? 'terminated'
    : cs.state?.waiting
      ? `waiting: ${cs.state.waiting.reason ?? 'no reason'}`
      : 'not ready';
  const effect =
    kind === 'MongoDown'
      ? 'MongoDB is unavailable, so the broker cannot write and REST cannot read chain data'
      : 'the broker stopped, so MongoDB and REST stop following the chain';
  return {
    kind,
    container: cs.name,
    reason: kind,
    fragment: `is down (${state}) while the server runs: ${effect}`,
    uncleanStop: false,
    remediable: true,
    restartCount: cs.restartCount ?? 0,
  };
}

function mergeCandidates(cs: V1ContainerStatus, candidates: Candidate[]): PodProblem | undefined {
  if (candidates.length === 0) return undefined;
  const sorted = [...candidates].sort((a, b) => severityRank(a.kind) - severityRank(b.kind));
  const [top, ...rest] = sorted as [Candidate, ...Candidate[]];
  const fragments = [top.fragment, ...rest.map((c) => c.fragment)];
  const problem: PodProblem = {
    kind: top.kind,
    container: cs.name,
    reason: top.reason,
    message: `container ${cs.name} ${fragments.join('; ')}`,
    uncleanStop: candidates.some((c) => c.uncleanStop),
    remediable: top.remediable,
  };
  if (top.exitCode !== undefined) problem.exitCode = top.exitCode;
  if (top.restartCount !== undefined) problem.restartCount = top.restartCount;
  return problem;
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
