import { patched, proxyActivities, proxyLocalActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import type { NodeRef, StatusReport } from '../activities/types.js';
import { durableSteps, outageQuery, type OutageHolder } from './durableStep.js';
import { failureOf, kubernetesRetry, kubernetesStepOptions, waitForNodeReadyOptions } from './kubernetesSteps.js';
import { backoffDelayMs, type RemediationPolicy, type ReportedProblem } from './remediation/policy.js';

const { readSymbolNode, reportNodeStatus, createRecoveryJob, startNode } =
  proxyLocalActivities<NodeActivities>(kubernetesStepOptions);

// Stopping waits for catapult's clean shutdown: up to the pod's grace period (420 s for API nodes).
const { stopNode } = proxyActivities<NodeActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: kubernetesRetry,
});

// Recovery reloads the chain state: hours on mainnet; the Job's own deadline (6 h) ends it first.
const { waitForRecoveryJob } = proxyActivities<NodeActivities>({
  startToCloseTimeout: '7 hours',
  heartbeatTimeout: '30 seconds',
  retry: kubernetesRetry,
});

const { waitForNodeReady } = proxyActivities<NodeActivities>(waitForNodeReadyOptions);

export interface RemediateNodeInput {
  ref: NodeRef;
  /** The spec generation the node runs; status reports carry it. */
  generation: number;
  /** Sequence number of this remediation for the node: names its Jobs. */
  run: number;
  pod: string;
  problem: ReportedProblem;
  policy: RemediationPolicy;
  /** Record the problem on the SymbolNode (Degraded, Ready=False, its Event) with the first report: the
   *  lifecycle leaves it to the child so that the remediation starts without waiting for a status write. */
  recordProblem?: boolean;
}

export type RemediationOutcome =
  | { outcome: 'Recovered'; jobs: string[] }
  | { outcome: 'Failed'; reason: string; message: string; jobs: string[] }
  | { outcome: 'Skipped' | 'Gone'; reason: string; message: string };

/**
 * The recovery a person would run after an unclean stop (facts §3): stop the whole node, run catapult.recovery
 * on the same volume with the same image and configuration (MongoDB beside it for API roles), and start the
 * node again only after recovery succeeded; the pod's init order then starts MongoDB, server, broker and REST
 * in turn. Each decision and step is in this workflow's history.
 */
export async function remediateNode(input: RemediateNodeInput): Promise<RemediationOutcome> {
  const { ref, generation, run, pod, problem, policy, recordProblem } = input;
  const jobs: string[] = [];
  // An outage of the API server is waited out step by step: a node stopped for recovery is always started again.
  const holder: OutageHolder = {};
  setHandler(outageQuery, () => holder.outage);
  const durably = durableSteps(ref, () => generation, holder);
  const report = (step: string, status: StatusReport) => durably(step, () => reportNodeStatus(ref, status));
  // Names this run's Jobs: a Job of an earlier run, or of a history that was reset, is never taken for its own.
  const owner = patched('recovery-job-owner')
    ? { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId }
    : undefined;
  try {
    const problemConditions = recordProblem
      ? ([
          { type: 'Degraded', status: 'True', reason: problem.reason, message: problem.message },
          { type: 'Ready', status: 'False', reason: problem.reason, message: problem.message },
        ] as const)
      : [];
    const problemEvent = {
      type: 'Warning',
      reason: problem.reason,
      message: `pod ${pod}: ${problem.message}`,
    } as const;
    const reportStart = () =>
      report('reporting the remediation', {
        generation,
        conditions: [
          ...problemConditions,
          { type: 'Progressing', status: 'True', reason: 'Recovering', message: `recovering from ${problem.reason}` },
        ],
        event: {
          type: 'Warning',
          reason: 'RemediationStarted',
          message: `pod ${pod}: ${problem.reason}; stopping the node to run catapult.recovery (remediation ${run})`,
        },
        ...(recordProblem ? { moreEvents: [problemEvent] } : {}),
      });
    const paused = {
      outcome: 'Skipped',
      reason: 'Paused',
      message: 'spec.paused is set: the operator leaves the node alone',
    } as const;
    const readNode = () => durably('reading the SymbolNode', () => readSymbolNode(ref));
    let node: Awaited<ReturnType<typeof readSymbolNode>>;
    if (patched('remediation-reports-while-reading')) {
      // The problem reaches the status as soon as possible; a paused node (rare) is told apart afterwards.
      [node] = await Promise.all([readNode(), reportStart()]);
      if (node.spec.paused) {
        await report('reporting the pause', {
          generation,
          conditions: [{ type: 'Progressing', status: 'False', reason: paused.reason, message: paused.message }],
          event: { type: 'Normal', reason: 'RemediationSkipped', message: paused.message },
        });
        return paused;
      }
    } else {
      node = await readNode();
      if (node.spec.paused) {
        if (recordProblem)
          await report('recording the problem', {
            generation,
            conditions: [...problemConditions],
            event: problemEvent,
          });
        return paused;
      }
      await reportStart();
    }
    await durably('stopping the node', () => stopNode(ref));
    let failure = '';
    for (let attempt = 1; attempt <= policy.recoveryJobAttempts; attempt++) {
      if (attempt > 1) await sleep(backoffDelayMs(policy, attempt - 1));
      const options = { run, attempt, reason: problem.reason, ...(owner ? { owner } : {}) };
      const job = await durably('creating the recovery Job', () => createRecoveryJob(ref, node.spec, options));
      jobs.push(job);
      await report('reporting the recovery Job', {
        generation,
        conditions: [],
        event: {
          type: 'Normal',
          reason: 'RecoveryStarted',
          message: `Job ${job} runs catapult.recovery (attempt ${attempt})`,
        },
      });
      const result = await durably('waiting for the recovery Job', () => waitForRecoveryJob(ref, job));
      if (result.succeeded) {
        failure = '';
        break;
      }
      failure = result.message;
      await report('reporting a failed recovery', {
        generation,
        conditions: [],
        event: {
          type: 'Warning',
          reason: 'RecoveryFailed',
          message: `${result.message} (attempt ${attempt} of ${policy.recoveryJobAttempts})`,
        },
      });
    }
    if (failure) {
      const message = `catapult.recovery failed ${policy.recoveryJobAttempts} times; the node stays stopped. Last: ${failure}`;
      return { outcome: 'Failed', reason: 'RecoveryFailed', message, jobs };
    }
    await durably('starting the node', () => startNode(ref));
    await durably('waiting for the node pod', () => waitForNodeReady(ref), { retryTimeouts: false });
    await report('reporting the recovery', {
      generation,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'NodeReady', message: 'the node pod is Ready' },
        { type: 'Degraded', status: 'False', reason: 'Recovered', message: `recovered from ${problem.reason}` },
        { type: 'Progressing', status: 'False', reason: 'Recovered', message: `remediation ${run} is done` },
      ],
      event: {
        type: 'Normal',
        reason: 'Recovered',
        message: `catapult.recovery ran (${jobs.at(-1)}) and the node is Ready again`,
      },
    });
    return { outcome: 'Recovered', jobs };
  } catch (error) {
    const { type, message } = failureOf(error, 'RemediationFailed');
    if (type === 'NodeGone') return { outcome: 'Gone', reason: type, message };
    return { outcome: 'Failed', reason: 'RemediationFailed', message, jobs };
  }
}
