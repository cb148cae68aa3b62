/**
 * What one container's status says: its symptoms (candidates) merged into one problem, the most severe first.
 */
import type { V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { CONTAINERS } from '../../k8s/objects/layout.js';
import {
  DEFAULT_RECENT_TERMINATION_MS,
  EXIT_INSTANCE_LOCK,
  EXIT_SIGKILL,
  isUncleanTermination,
  severityRank,
  unsignedExitCode,
  type ClassifyContext,
  type PodProblem,
} from './kinds.js';
import { summariseTerminationMessage } from './terminationMessage.js';

/** Containers whose unclean stop cannot leave catapult's data needing recovery. */
const STATELESS_CONTAINERS: readonly string[] = [CONTAINERS.rest, CONTAINERS.seedInit, CONTAINERS.mongoInit];

const LOCK_FILES: Record<string, string> = {
  [CONTAINERS.server]: 'server.lock',
  [CONTAINERS.broker]: 'broker.lock',
  [CONTAINERS.recovery]: 'recovery.lock',
};

const MAX_DETAIL = 200;

export interface Candidate extends Omit<PodProblem, 'message'> {
  /** What this symptom adds when another one of the same container is reported. */
  fragment: string;
}

export function allStatuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

export function toMillis(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = (value instanceof Date ? value : new Date(value)).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export function oneLine(text: string | undefined, max = MAX_DETAIL): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round(m / 60)}h`;
}

export function holdsCatapultState(container: string): boolean {
  return !STATELESS_CONTAINERS.includes(container);
}

function isLockError(t: V1ContainerStateTerminated): boolean {
  return unsignedExitCode(t.exitCode) === EXIT_INSTANCE_LOCK || /instance lock/i.test(t.message ?? '');
}

export function describeTermination(container: string, t: V1ContainerStateTerminated, when: 'exited' | 'last exited') {
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

export function containerCandidates(
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

export function isDown(cs: V1ContainerStatus): boolean {
  return !cs.ready || !cs.state?.running;
}

export function dependencyDown(cs: V1ContainerStatus, kind: 'MongoDown' | 'BrokerDown'): Candidate {
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

export function mergeCandidates(cs: V1ContainerStatus, candidates: Candidate[]): PodProblem | undefined {
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
