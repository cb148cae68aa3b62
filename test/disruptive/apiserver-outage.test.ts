import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { throughFault, type NodeAfterFault, type ThroughFault } from '../support/inFlight.js';
import { kubeApiserverRefuses, startKubeApiserver, stopKubeApiserver } from '../support/stackFaults.js';
import { conditionOf } from '../support/symbolNodes.js';

/** What the operator writes on a node once a write gets through after Kubernetes was unreachable. */
const unavailable = 'KubernetesUnavailable';

async function outage(ms: number): Promise<ThroughFault> {
  return throughFault(
    'apiserver-outage',
    {
      begin: stopKubeApiserver,
      async end() {
        // Checked every second: a `stack up` of a test run beside this one would bring the API server back early.
        for (const until = Date.now() + ms; Date.now() < until; await sleep(Math.min(1000, until - Date.now()))) {
          if (!(await kubeApiserverRefuses()))
            throw new Error('kube-apiserver came back before the outage ended: another process started it');
        }
        await startKubeApiserver();
      },
    },
    // After a long outage kube-controller-manager sees no node heartbeat and marks every Node NotReady
    // for a moment: the production grace (60 s) keeps that from counting as a lost node.
    { operator: { lostNodeGraceMs: 60_000 } },
  );
}

function report(label: string, result: ThroughFault): void {
  const { window, provisioned, remediated } = result;
  console.log(
    `[R3 ${label}] kube-apiserver gone ${((window.backAt - window.stoppedAt) / 1000).toFixed(1)}s; ` +
      `after it served again: provisioning done in ${provisioned.secondsAfterFault.toFixed(1)}s, ` +
      `remediation in ${remediated.secondsAfterFault.toFixed(1)}s`,
  );
  for (const node of [provisioned, remediated])
    console.log(
      `[R3 ${label}] ${node.node.metadata?.name}: Events ${reasons(node)}; conditions seen ${conditionsSeen(node)}`,
    );
}

const conditionsSeen = (node: NodeAfterFault): string =>
  [
    ...new Set(node.seen.flatMap((n) => n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`)),
  ].join(', ');

const reasons = (node: NodeAfterFault): string => node.events.map((e) => `${e.reason}×${e.count ?? 1}`).join(', ');

/** Everything that is not as R3 requires, all at once (a failure names every gap, not the first). */
function problems(result: ThroughFault): string[] {
  const { provisioned, remediated, jobs } = result;
  const found: string[] = [];
  const expect = (ok: boolean, problem: string) => void (ok || found.push(problem));
  expect(provisioned.outcome.outcome === 'Ready', `provisioning ended ${JSON.stringify(provisioned.outcome)}`);
  expect(remediated.outcome.outcome === 'Recovered', `remediation ended ${JSON.stringify(remediated.outcome)}`);
  expect(jobs.length === 1, `recovery Jobs: ${jobs.join(', ') || 'none'} (one expected)`);
  for (const node of [provisioned, remediated]) {
    const name = node.node.metadata?.name ?? '';
    expect(node.replicas === 1, `${name}: ${node.replicas} replicas at the end`);
    for (const [type, status] of [
      ['Ready', 'True'],
      ['Degraded', 'False'],
    ] as const) {
      const condition = conditionOf(node.node, type);
      expect(condition?.status === status, `${name}: ${type}=${condition?.status}/${condition?.reason} at the end`);
    }
    // What happened is on the SymbolNode: the Warning Event, and the condition written once the API was back.
    const warning = node.events.find((e) => e.reason === unavailable);
    expect(warning?.type === 'Warning', `${name}: no Warning Event ${unavailable} (Events: ${reasons(node)})`);
    const conditions = node.seen.flatMap((n) => n.status?.conditions ?? []);
    expect(
      conditions.some((c) => c.reason === unavailable),
      `${name}: no condition with reason ${unavailable} after the outage (seen: ${conditionsSeen(node)})`,
    );
  }
  return found;
}

test('kube-apiserver gone for 30 s in the middle of a provisioning and of a remediation: both complete after it returns, and the nodes say what happened', async () => {
  const result = await outage(30_000);
  report('30 s', result);
  assert.deepEqual(problems(result), []);
});

test('kube-apiserver gone for 3 min 20 s, longer than any retry window (status writes ~15 s, Kubernetes steps ~81 s before the fix): both complete', async () => {
  const result = await outage(200_000);
  report('200 s', result);
  assert.deepEqual(problems(result), []);
});
