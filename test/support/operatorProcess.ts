/**
 * An operator process that reports its activities and can be killed at an activity boundary
 * (test/fixtures/tracedOperatorProcess.ts), for the kill-at-every-boundary test.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { workflowBundleFile } from './operator.js';
import { repoRoot } from './paths.js';
import { logOperatorProcess } from './secretLedger.js';

/** What the operator was doing: provisioning a spec (the provisionNode child), or anything after it. */
export type Phase = 'provision' | 'remediate';

/** Provisioning's activities are the provisionNode child's; a remediation's are its child's and the lifecycle's. */
export function inPhase(phase: Phase, workflowType: string): boolean {
  return (workflowType === 'provisionNode') === (phase === 'provision');
}

/** Kill the process right after the `afterDone`-th activity of `phase` (1-based) returned. */
export interface KillSpec {
  phase: Phase;
  afterDone: number;
}

/** Marks the process's activity lines among whatever else it prints (its log, when it logs to stdout). */
export const TRACE_PREFIX = 'activity-trace ';

export interface ActivityTrace {
  event: 'start' | 'done' | 'kill';
  workflowType: string;
  workflowId: string;
  activityType: string;
  activityId: string;
  local: boolean;
  attempt: number;
}

export interface TracedOperator {
  /** Every activity start and end so far, in order. */
  trace: ActivityTrace[];
  /** Resolves when the process is gone, with the signal that ended it, if any. */
  exited: Promise<NodeJS.Signals | null>;
  /** The activity after which the process killed itself. */
  killedAfter(): ActivityTrace | undefined;
  /** SIGKILL from outside; waits for the process to be gone. */
  kill(): Promise<void>;
}

export async function spawnTracedOperator(
  namespace: string,
  taskQueue: string,
  kill?: KillSpec,
): Promise<TracedOperator> {
  const script = fileURLToPath(new URL('../fixtures/tracedOperatorProcess.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      SNO_TEST_NAMESPACE: namespace,
      SNO_TEST_TASK_QUEUE: taskQueue,
      SNO_TEST_WORKFLOW_BUNDLE: await workflowBundleFile(),
      ...(kill ? { SNO_TEST_KILL: JSON.stringify(kill) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  logOperatorProcess(child, `operator-process.${namespace}.${taskQueue}.${child.pid}.log`);
  // 'close', not 'exit': the last lines (a kill's) may still be in the pipe when the process is gone.
  const exited = once(child, 'close').then(([, signal]) => signal as NodeJS.Signals | null);
  const trace: ActivityTrace[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') ready();
    else if (line.startsWith(TRACE_PREFIX)) trace.push(JSON.parse(line.slice(TRACE_PREFIX.length)) as ActivityTrace);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await Promise.race([
      isReady,
      exited.then((signal) => Promise.reject(new Error(`operator process exited early (${signal})`))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    trace,
    exited,
    killedAfter: () => trace.find((t) => t.event === 'kill'),
    kill: stop,
  };
}
