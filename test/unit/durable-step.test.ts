import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  RetryState,
  ServerFailure,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { outageDelayMs, transientReason } from '../../workflows/durableStep.js';
import { alertIdempotencyKey, shouldAlert } from '../../workflows/remediation/alerting.js';

const activityFailure = (cause: Error) =>
  new ActivityFailure('failed', 'reportNodeStatus', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, cause);

describe('durable steps', () => {
  it('wait out an unavailable API server, a timed-out step and a Temporal server error', () => {
    const unavailable = ApplicationFailure.create({ type: 'KubernetesUnavailable', message: 'answered 503' });
    assert.equal(transientReason(activityFailure(unavailable)), 'KubernetesUnavailable');
    const timeout = new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE);
    assert.equal(transientReason(activityFailure(timeout)), 'StepTimedOut');
    assert.equal(transientReason(activityFailure(new ServerFailure('unavailable', false))), 'StepTimedOut');
  });
  it('leave refusals, a missing node, bugs and cancellations to the caller', () => {
    for (const type of ['KubernetesRejected', 'NodeGone', 'InvalidSpec', 'KubernetesApiError']) {
      assert.equal(transientReason(activityFailure(ApplicationFailure.create({ type, message: 'x' }))), undefined);
    }
    assert.equal(transientReason(activityFailure(new TypeError('bug'))), undefined);
    assert.equal(transientReason(new CancelledFailure('cancelled')), undefined);
  });
  it('take a 403 for the outage while one is under way (an API server loading its RBAC rules), else for a refusal', () => {
    const forbidden = ApplicationFailure.create({
      type: 'KubernetesRejected',
      message: 'Kubernetes API 403: forbidden',
      details: ['KubernetesApi403'],
      nonRetryable: true,
    });
    assert.equal(transientReason(activityFailure(forbidden), true, true), 'KubernetesUnavailable');
    assert.equal(transientReason(activityFailure(forbidden), true, false), undefined);
    const invalid = ApplicationFailure.create({
      type: 'KubernetesRejected',
      message: 'x',
      details: ['KubernetesApi422'],
    });
    assert.equal(transientReason(activityFailure(invalid), true, true), undefined);
  });
  it('take a timeout for an answer where the step says so (a pod that never becomes Ready)', () => {
    const timeout = new TimeoutFailure('timed out', undefined, TimeoutType.SCHEDULE_TO_CLOSE);
    assert.equal(transientReason(activityFailure(timeout), false), undefined);
  });
  it('back off from 1 s, doubling, capped at 30 s', () => {
    assert.deepEqual([1, 2, 3, 4, 6, 20].map(outageDelayMs), [1_000, 2_000, 4_000, 8_000, 30_000, 30_000]);
  });
});

describe('alert dedupe (decided in the lifecycle)', () => {
  const hour = 60 * 60_000;
  it('alerts a new reason at once and the same reason again only after the re-alert period', () => {
    assert.equal(shouldAlert(undefined, 'ImagePullBackOff', 0), true);
    const alerted = { reason: 'ImagePullBackOff', atMs: 10_000, sequence: 1 };
    assert.equal(shouldAlert(alerted, 'ImagePullBackOff', 10_000 + hour - 1), false);
    assert.equal(shouldAlert(alerted, 'ImagePullBackOff', 10_000 + hour), true);
    assert.equal(shouldAlert(alerted, 'RemediationExhausted', 10_001), true);
    assert.equal(shouldAlert(alerted, 'ImagePullBackOff', 10_000 + 60_000, 60_000), true, 'a shorter period');
  });
  it('keys each alert by the workflow and its sequence number', () => {
    assert.equal(alertIdempotencyKey('symbolnode/ns/a/uid', 3), 'symbolnode/ns/a/uid/alert/3');
  });
});
