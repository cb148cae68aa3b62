import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ANNOTATION_RECOVERY_RUN_ID,
  ANNOTATION_RECOVERY_WORKFLOW_ID,
  buildRecoveryJob,
  buildStatefulSet,
  recoveryJobName,
  recoveryJobOwner,
} from '../../k8s/objects/index.js';
import { computePhase, INPUT_ERROR_REASONS } from '../../k8s/conditions.js';
import { retriesLater } from '../../workflows/remediation/failureRules.js';
import { backoffDelayMs, DEFAULT_REMEDIATION_POLICY, remediationFor } from '../../workflows/remediation/policy.js';
import { API_IMAGES, context, parsed, SERVER_IMAGE } from './k8s-fixtures.js';

const problem = (kind: string, extra: Partial<Parameters<typeof remediationFor>[0]> = {}) => ({
  kind,
  reason: kind,
  message: kind,
  uncleanStop: false,
  remediable: true,
  ...extra,
});

describe('remediationFor', () => {
  it('recovers after an unclean stop of a catapult process', () => {
    assert.equal(remediationFor(problem('CrashLoop', { uncleanStop: true })), 'recover');
    assert.equal(remediationFor(problem('StuckOnLostNode', { uncleanStop: true })), 'recover');
  });
  it('recovers when MongoDB or the broker is down, even if the top problem is another one', () => {
    assert.equal(remediationFor(problem('CrashLoop', { kinds: ['CrashLoop', 'MongoDown'] })), 'recover');
    assert.equal(remediationFor(problem('BrokerDown')), 'recover');
  });
  it('only reports what a restart cannot fix, and stateless restarts', () => {
    assert.equal(remediationFor(problem('ImagePull', { remediable: false })), 'report');
    assert.equal(remediationFor(problem('ConfigError', { remediable: false, uncleanStop: true })), 'report');
    assert.equal(remediationFor(problem('RestartsRising')), 'report');
  });
  it('doubles the pause up to the maximum', () => {
    const policy = { ...DEFAULT_REMEDIATION_POLICY, backoffMs: 1000, maxBackoffMs: 5000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelayMs(policy, n)),
      [1000, 2000, 4000, 5000, 5000],
    );
  });
});

describe('buildRecoveryJob', () => {
  it("runs catapult.recovery with the server's image, configuration and volume, once, owned by the SymbolNode", () => {
    const node = parsed({ podAnnotations: { 'example.org/scrape': 'false' }, nodeSelector: { pool: 'a' } });
    const job = buildRecoveryJob(node, { run: 2, attempt: 3, reason: 'CrashLoopBackOff' });
    assert.equal(job.metadata?.name, 'node-a-recovery-2-3');
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.metadata?.ownerReferences?.[0]?.name, 'node-a');
    const pod = job.spec.template.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(pod.initContainers, [], 'a peer has no MongoDB');
    const [recovery] = pod.containers;
    assert.equal(recovery?.image, SERVER_IMAGE);
    assert.match(recovery.command!.join(' '), /catapult\.recovery \/userconfig/);
    assert.equal(pod.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName, 'data-node-a-0');
    assert.deepEqual(pod.nodeSelector, { pool: 'a' });
    assert.equal(job.spec?.template.metadata?.annotations?.['example.org/scrape'], 'false');
    assert.equal(job.spec?.template.metadata?.labels?.['app.kubernetes.io/component'], 'recovery', 'not a node pod');
    // The same mounts as the server's, so recovery sees the same files.
    const sts = buildStatefulSet(node, context());
    const server = sts.spec!.template.spec!.containers.find((c) => c.name === 'server')!;
    assert.deepEqual(recovery.volumeMounts, server.volumeMounts);
    assert.deepEqual(pod.securityContext, sts.spec!.template.spec!.securityContext);
  });
  it('runs MongoDB as a sidecar before recovery on API nodes', () => {
    const job = buildRecoveryJob(parsed({ role: 'api', ...API_IMAGES }), { run: 1, attempt: 1, reason: 'MongoDown' });
    assert.deepEqual(
      job.spec!.template.spec!.initContainers!.map((c) => [c.name, c.restartPolicy]),
      [
        ['mongo', 'Always'],
        ['mongo-init', undefined],
      ],
    );
  });
  it('keeps Job names within 63 characters and distinct for long node names', () => {
    const a = recoveryJobName('a'.repeat(52), 12345, 3);
    const b = recoveryJobName(`${'a'.repeat(51)}b`, 12345, 3);
    assert.ok(a.length <= 63 && b.length <= 63, `${a} ${b}`);
    assert.notEqual(a, b);
    assert.match(a, /-recovery-12345-3$/);
  });
  const owner = { workflowId: 'symbolnode/ns/node-a/uid-1/remediate/1', runId: '0190e7a6-5b1c-7d3e-9f00-123456789abc' };
  it('names a Job after the remediation run that owns it and annotates it with that run', () => {
    const job = buildRecoveryJob(parsed(), { run: 1, attempt: 2, reason: 'SigKilled', owner });
    assert.match(job.metadata!.name!, /^node-a-recovery-1-2-[0-9a-f]{8}$/);
    assert.equal(job.metadata?.annotations?.[ANNOTATION_RECOVERY_WORKFLOW_ID], owner.workflowId);
    assert.equal(job.metadata?.annotations?.[ANNOTATION_RECOVERY_RUN_ID], owner.runId);
    assert.deepEqual(recoveryJobOwner(job), owner);
    assert.equal(recoveryJobOwner(buildRecoveryJob(parsed(), { run: 1, attempt: 2, reason: 'x' })), undefined);
  });
  it('gives another run of the same remediation (a reset history) and another remediation other names', () => {
    const name = recoveryJobName('node-a', 1, 1, owner);
    assert.equal(recoveryJobName('node-a', 1, 1, { ...owner }), name, 'deterministic for one run');
    assert.notEqual(recoveryJobName('node-a', 1, 1, { ...owner, runId: 'another-run' }), name);
    assert.notEqual(recoveryJobName('node-a', 1, 1, { ...owner, workflowId: `${owner.workflowId}0` }), name);
    assert.notEqual(recoveryJobName('node-a', 1, 2, owner), name);
  });
  it('keeps owned Job names within 63 characters for the longest node names', () => {
    const long = recoveryJobName('a'.repeat(63), 12345, 3, owner);
    assert.ok(long.length <= 63, long);
    assert.match(long, /^a+-[0-9a-f]{6}-recovery-12345-3-[0-9a-f]{8}$/);
    assert.notEqual(long, recoveryJobName(`${'a'.repeat(62)}b`, 12345, 3, owner));
  });
});

describe('failures fixed outside the spec (one table)', () => {
  it('retries a missing Secret, a bad checksum, a source that is down and an RBAC refusal later', () => {
    for (const reason of ['IdentitySecretNotFound', 'ChecksumMismatch', 'SourceUnavailable', 'KubernetesApi403']) {
      assert.equal(retriesLater(reason), true, reason);
    }
  });
  it('waits for a spec change on the rest, and on names that only look like table keys', () => {
    for (const reason of ['InvalidArchive', 'InvalidSpec', 'KubernetesApi422', 'toString', 'constructor']) {
      assert.equal(retriesLater(reason), false, reason);
    }
  });
  it('makes the phase Failed for the reasons that need a person, Degraded for a source that is down', () => {
    const phase = (reason: string) =>
      computePhase({
        conditions: [{ type: 'Degraded', status: 'True', reason, message: '', lastTransitionTime: '' }],
      });
    for (const reason of INPUT_ERROR_REASONS) assert.equal(phase(reason), 'Failed', reason);
    assert.equal(phase('SourceUnavailable'), 'Degraded');
  });
});
