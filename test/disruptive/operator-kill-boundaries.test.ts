/**
 * R1: the operator SIGKILLed at every activity boundary of a provisioning and of a remediation.
 *
 * A crash between two activities leaves one of two kinds of durable state, and both are tried at every boundary:
 * - "unrecorded": the activity's effects are in Kubernetes but its result is not in Temporal (the process kills
 *   itself right after the activity returned). Local activities' results only reach the history when their
 *   workflow task completes, so this is also every point inside a run of local activities.
 * - "recorded": its result just landed in the history (ActivityTaskCompleted, or the markers of a workflow task's
 *   local activities, which land together): the test kills the process as soon as its long poll sees it.
 * The boundaries are enumerated from a clean run (the activities the operator ran, the recording points of the
 * histories), not picked by hand. Each boundary gets a fresh namespace, SymbolNode and operator process; after the
 * kill a new operator takes the task queue over, and the outcome must equal the clean run's: each workflow completes
 * once, the same objects (one recovery Job), the identity first written, one of each milestone Event.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { endpoints } from '../../stack/versions.js';
import {
  lifecycleStateQuery,
  nodeLifecycleWorkflowId,
  type NodeLifecycleState,
} from '../../workflows/nodeLifecycle.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import type { ProvisionOutcome } from '../../workflows/provisionNode.js';
import { withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import {
  lastEventId,
  recordingPointsOf,
  waitForRecordingPoint,
  type RecordingPoint,
} from '../support/historyBoundaries.js';
import { eventTally, IdentityObserver, namespaceObjects, type NamespaceObjects } from '../support/nodeObservation.js';
import { startOperator } from '../support/operator.js';
import { inPhase, spawnTracedOperator, type ActivityTrace, type Phase } from '../support/operatorProcess.js';
import { conditionOf, createSymbolNode, getSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const NODE = 'kb';
const MILESTONES = [
  'Provisioning',
  'Provisioned',
  'RemediationStarted',
  'RecoveryStarted',
  'Recovered',
  'Healthy',
] as const;
/** Boundaries tried at once: each has its own namespace, node and operators. */
const PARALLEL = 4;

type WorkflowRole = 'lifecycle' | 'provision' | 'remediate';
type Boundary =
  | { phase: Phase; kind: 'unrecorded'; index: number; activity: ActivityTrace }
  | { phase: Phase; kind: 'recorded'; role: WorkflowRole; point: RecordingPoint };

interface Outcome {
  objects: NamespaceObjects;
  events: Record<string, { objects: number; count: number }>;
}

const label = (b: Boundary): string =>
  b.kind === 'unrecorded'
    ? `${b.phase} #${b.index}: after ${b.activity.activityType} (${b.activity.local ? 'local' : 'regular'}, ${b.activity.workflowType}) returned, unrecorded`
    : `${b.phase}: ${b.role} recording point ${b.point.ordinal} (${b.point.activities.join(' + ')}) in history`;

function workflowIds(namespace: string, uid: string): Record<WorkflowRole, string> {
  const lifecycle = nodeLifecycleWorkflowId({ namespace, name: NODE, uid });
  return { lifecycle, provision: `${lifecycle}/provision/1`, remediate: `${lifecycle}/remediate/1` };
}

async function queryUntil(
  client: Client,
  workflowId: string,
  done: (state: NodeLifecycleState) => boolean,
  what: string,
): Promise<NodeLifecycleState> {
  const handle = client.workflow.getHandle(workflowId);
  for (let i = 0; ; i++) {
    const state = await handle.query(lifecycleStateQuery);
    if (done(state)) return state;
    if (i > 600) throw new Error(`lifecycle never reached: ${what}; state ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The lifecycle started this child exactly once and saw it complete exactly once. */
async function assertChildRanOnce(client: Client, lifecycleId: string, childId: string): Promise<void> {
  const events = (await client.workflow.getHandle(lifecycleId).fetchHistory()).events ?? [];
  const about = (e: (typeof events)[number]) =>
    e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ??
    e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ??
    e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId;
  const mine = events.filter((e) => about(e) === childId);
  const count = (key: keyof (typeof events)[number]) => mine.filter((e) => e[key]).length;
  assert.equal(count('startChildWorkflowExecutionInitiatedEventAttributes'), 1, `${childId} initiated once`);
  assert.equal(count('childWorkflowExecutionStartedEventAttributes'), 1, `${childId} started once`);
  assert.equal(count('childWorkflowExecutionCompletedEventAttributes'), 1, `${childId} completed once`);
}

/** The workflow's result, once it exists (a child starts when its parent gets to it). */
async function resultOf<T>(client: Client, workflowId: string): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as T;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || i > 1200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function assertNoWorkflow(client: Client, workflowId: string): Promise<void> {
  await assert.rejects(client.workflow.getHandle(workflowId).describe(), WorkflowNotFoundError, `no ${workflowId}`);
}

interface Run {
  client: Client;
  /** The boundary to kill at; none: the clean run. */
  boundary?: Boundary;
  /** With the clean run: the phase to go through. */
  phase: Phase;
}

interface RunResult extends Outcome {
  trace: ActivityTrace[];
  points: Record<WorkflowRole, RecordingPoint[]>;
  killed?: string;
  /** Seconds: the first operator's start; from the SymbolNode's creation to the kill; from the kill to the end. */
  timing: { spawn: number; toKill: number; toEnd: number };
}

/**
 * One node through provisioning (and a remediation, for that phase) with an operator process that dies at the
 * boundary; a new operator finishes the work. Returns what the namespace holds at the end, after the checks that
 * hold for every run.
 */
async function runOnce({ client, boundary, phase }: Run): Promise<RunResult> {
  return withNamespace('r1kill', async (namespace, kc) => {
    const taskQueue = `r1kill-${randomBytes(4).toString('hex')}`;
    const kill = boundary?.kind === 'unrecorded' ? { phase, afterDone: boundary.index } : undefined;
    const spawned = Date.now();
    const first = await spawnTracedOperator(namespace, taskQueue, kill);
    const identity = await IdentityObserver.start(kc, namespace);
    let successor: Awaited<ReturnType<typeof startOperator>> | undefined;
    let ids: Record<WorkflowRole, string> | undefined;
    const started = Date.now();
    try {
      const created = await createSymbolNode(kc, namespace, NODE, saiPeerSpec);
      ids = workflowIds(namespace, created.metadata!.uid!);
      let lifecycleFrom = 0;
      if (phase === 'remediate') {
        await waitForCondition(kc, namespace, NODE, 'Ready', 'True', 90_000);
        lifecycleFrom = await lastEventId(client, ids.lifecycle);
        await injectPodFault(kc, namespace, `${NODE}-0`, {
          kind: 'crash-loop',
          container: 'server',
          exitCode: 137,
          reason: 'OOMKilled',
          restartInterval: '1s',
        });
      }
      let killed: string | undefined;
      if (boundary?.kind === 'unrecorded') {
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 150_000, 'timeout').unref());
        if ((await Promise.race([first.exited, timeout])) === 'timeout' || !first.killedAfter()) {
          const ran = first.trace.filter((t) => t.event === 'done' && inPhase(phase, t.workflowType));
          throw new Error(
            `never reached: ${ran.length} ${phase} activities ran (${ran.map((t) => t.activityType).join(', ')})`,
          );
        }
        const at = first.killedAfter()!;
        killed = `after ${at.activityType} of ${at.workflowType}`;
      } else if (boundary?.kind === 'recorded') {
        const from = boundary.role === 'lifecycle' ? lifecycleFrom : 0;
        const point = await waitForRecordingPoint(client, ids[boundary.role], boundary.point.ordinal, from);
        await first.kill();
        killed = `at event ${point.eventId} (${point.activities.join(' + ')})`;
      }
      const killedAt = Date.now();
      if (boundary) successor = await startOperator({ namespace, taskQueue });

      const provision = await resultOf<ProvisionOutcome>(client, ids.provision);
      assert.equal(provision.outcome, 'Ready', JSON.stringify(provision));
      let state: NodeLifecycleState;
      if (phase === 'provision') {
        state = await queryUntil(client, ids.lifecycle, (s) => s.handledGeneration === 1, 'generation 1 handled');
        await assertNoWorkflow(client, ids.remediate);
      } else {
        const remediation = await resultOf<RemediationOutcome>(client, ids.remediate);
        assert.equal(remediation.outcome, 'Recovered', JSON.stringify(remediation));
        assert.equal(remediation.jobs.length, 1, `one recovery Job: ${remediation.jobs.join(', ')}`);
        // Its next report, the replacement pod's, is the end of the remediation for the lifecycle.
        state = await queryUntil(
          client,
          ids.lifecycle,
          (s) => s.podHealth?.podReady === true && !s.podHealth.problem && s.remediation?.replacedPodUid !== undefined,
          'the replacement pod reported Ready',
        );
        assert.equal(state.remediation?.runs, 1, 'one remediation');
        await assertChildRanOnce(client, ids.lifecycle, ids.remediate);
        await assertNoWorkflow(client, `${ids.lifecycle}/remediate/2`);
      }
      assert.equal(state.handledGeneration, 1);
      assert.equal(state.lastOutcome?.outcome, 'Ready');
      await assertChildRanOnce(client, ids.lifecycle, ids.provision);
      await assertNoWorkflow(client, `${ids.lifecycle}/provision/2`);

      const node = await waitForCondition(kc, namespace, NODE, 'Ready', 'True');
      assert.equal(node.status?.observedGeneration, 1);
      assert.equal(conditionOf(node, 'Degraded')?.status, 'False');
      assert.equal(conditionOf(node, 'Provisioned')?.status, 'True');

      assert.deepEqual(identity.changes, [], 'the identity first written stays');
      const keys = identity.publicKeys();
      assert.ok(keys, 'the status shows the public keys');
      const latest = await getSymbolNode(kc, namespace, NODE);
      assert.equal(`main ${latest.status?.mainPublicKey}, node ${latest.status?.nodePublicKey}`, keys);
      assert.equal(await identity.secretsPublicKeys(NODE), keys, "the Secrets hold the status's keys");

      const points = {
        lifecycle: await recordingPointsOf(client, ids.lifecycle, lifecycleFrom),
        provision: await recordingPointsOf(client, ids.provision),
        remediate: phase === 'remediate' ? await recordingPointsOf(client, ids.remediate) : [],
      };
      return {
        objects: await namespaceObjects(kc, namespace),
        events: await eventTally(kc, namespace, NODE, MILESTONES),
        trace: [...first.trace],
        points,
        ...(killed ? { killed } : {}),
        timing: {
          spawn: (started - spawned) / 1000,
          toKill: (killedAt - started) / 1000,
          toEnd: (Date.now() - killedAt) / 1000,
        },
      };
    } finally {
      identity.stop();
      await first.kill();
      await successor?.stop();
      // Its task queue has no worker any more; its children end with it.
      if (ids)
        await client.workflow
          .getHandle(ids.lifecycle)
          .terminate('test over')
          .catch(() => undefined);
    }
  });
}

/** The boundaries of one phase of the clean run: after each activity, and at each recording point. */
function boundariesOf(phase: Phase, clean: RunResult): Boundary[] {
  const done = clean.trace.filter((t) => t.event === 'done' && inPhase(phase, t.workflowType));
  const unrecorded = done.map((activity, i): Boundary => ({ phase, kind: 'unrecorded', index: i + 1, activity }));
  const roles: WorkflowRole[] = phase === 'provision' ? ['provision'] : ['remediate', 'lifecycle'];
  const recorded = roles.flatMap((role) =>
    clean.points[role].map((point): Boundary => ({ phase, kind: 'recorded', role, point })),
  );
  const recordedCount = recorded.reduce((n, b) => n + (b.kind === 'recorded' ? b.point.activities.length : 0), 0);
  assert.equal(recordedCount, done.length, `every ${phase} activity the operator ran is in a history, once`);
  return [...unrecorded, ...recorded];
}

function expectedEvents(phase: Phase): Outcome['events'] {
  const once = { objects: 1, count: 1 };
  const none = { objects: 0, count: 0 };
  const remediated = phase === 'remediate';
  return {
    Provisioning: once,
    Provisioned: once,
    RemediationStarted: remediated ? once : none,
    RecoveryStarted: remediated ? once : none,
    Recovered: remediated ? once : none,
    Healthy: remediated ? once : none,
  };
}

for (const phase of ['provision', 'remediate'] as const) {
  test(
    `R1 ${phase}: the operator SIGKILLed at every activity boundary; each completes once, one set of objects, the identity unchanged`,
    {
      timeout: 15 * 60_000,
      concurrency: PARALLEL,
    },
    async (t) => {
      const connection = await Connection.connect({ address: endpoints.temporalAddress });
      const client = new Client({ connection, namespace: 'default' });
      try {
        const clean = await runOnce({ client, phase });
        assert.deepEqual(clean.events, expectedEvents(phase), 'the clean run');
        assert.equal(clean.objects.jobs, phase === 'remediate' ? 1 : 0);
        const boundaries = boundariesOf(phase, clean);
        console.log(
          `R1 ${phase}: clean run ${(clean.timing.toKill + clean.timing.toEnd).toFixed(1)} s; ${boundaries.length} boundaries:`,
        );
        for (const b of boundaries) console.log(`  ${label(b)}`);
        const started = Date.now();
        // The parent's concurrency runs PARALLEL of them at once.
        await Promise.all(
          boundaries.map((boundary) =>
            t.test(label(boundary), async () => {
              const result = await runOnce({ client, boundary, phase });
              const { spawn, toKill, toEnd } = result.timing;
              console.log(
                `R1 ${label(boundary)}: killed ${result.killed}; operator start ${spawn.toFixed(1)} s, ` +
                  `to the kill ${toKill.toFixed(1)} s, kill to the end ${toEnd.toFixed(1)} s`,
              );
              assert.deepEqual(result.objects, clean.objects, 'the same objects as the clean run');
              assert.deepEqual(result.events, expectedEvents(phase), 'each milestone Event once');
            }),
          ),
        );
        console.log(`R1 ${phase}: ${boundaries.length} boundaries in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await connection.close();
      }
    },
  );
}
