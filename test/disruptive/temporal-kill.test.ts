import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throughFault, type NodeAfterFault } from '../support/inFlight.js';
import { killTemporal, startTemporalAgain } from '../support/stackFaults.js';

const count = (node: NodeAfterFault, reason: string): number =>
  node.events.filter((e) => e.reason === reason).reduce((n, e) => n + (e.count ?? 1), 0);

test('Temporal SIGKILLed and restarted on the same database in the middle of a provisioning and of a remediation: both complete, nothing lost or done twice', async () => {
  const { window, provisioned, remediated, jobs } = await throughFault('temporal-kill', {
    begin: killTemporal,
    end: startTemporalAgain,
  });
  console.log(
    `[R2] Temporal gone ${((window.backAt - window.stoppedAt) / 1000).toFixed(1)}s (kill to serving again); ` +
      `after it served again: provisioning done in ${provisioned.secondsAfterFault.toFixed(1)}s, ` +
      `remediation in ${remediated.secondsAfterFault.toFixed(1)}s`,
  );

  assert.equal(provisioned.outcome.outcome, 'Ready', JSON.stringify(provisioned.outcome));
  assert.deepEqual(provisioned.provisionRuns, ['COMPLETED'], 'one provisioning run for generation 1');
  assert.equal(count(provisioned, 'Provisioned'), 1, 'Provisioned reported once');

  assert.equal(remediated.outcome.outcome, 'Recovered', JSON.stringify(remediated.outcome));
  assert.equal(remediated.nextRemediationExists, false, 'one remediation workflow');
  assert.deepEqual(
    jobs,
    'jobs' in remediated.outcome ? remediated.outcome.jobs : [],
    'one recovery Job, the one the remediation ran',
  );
  assert.equal(jobs.length, 1);
  for (const reason of ['RemediationStarted', 'RecoveryStarted', 'Recovered'])
    assert.equal(count(remediated, reason), 1, `${reason} reported once`);

  for (const node of [provisioned, remediated]) {
    const name = node.node.metadata?.name;
    assert.equal(node.replicas, 1, `${name}: running`);
    assert.ok(Object.keys(node.secretsAtFault).includes(`${name}-identity`), `${name}: identity existed at the kill`);
    for (const [secret, atFault] of Object.entries(node.secretsAtFault))
      assert.deepEqual(node.secretsAfter[secret], atFault, `${secret}: the same object and keys as before the kill`);
  }
});
