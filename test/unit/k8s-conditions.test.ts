import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  computePhase,
  conditionsEqual,
  findCondition,
  formatConditionTime,
  isConditionFalse,
  isConditionTrue,
  removeCondition,
  setCondition,
  SPEC_ERROR_REASONS,
  type Condition,
} from '../../k8s/conditions.js';

const t0 = new Date('2025-03-01T10:00:00.123Z');
const t1 = new Date('2025-03-01T10:05:00.456Z');
const t2 = new Date('2025-03-01T11:00:00Z');

void describe('setCondition', () => {
  void it('adds a condition with RFC 3339 second-precision time and the generation', () => {
    const list = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'Starting', message: 'catapult is starting' },
      4,
      t0,
    );
    assert.deepEqual(list, [
      {
        type: 'Ready',
        status: 'False',
        observedGeneration: 4,
        lastTransitionTime: '2025-03-01T10:00:00Z',
        reason: 'Starting',
        message: 'catapult is starting',
      },
    ]);
  });

  void it('moves lastTransitionTime only when the status changes', () => {
    let list = setCondition([], { type: 'Ready', status: 'False', reason: 'Starting', message: 'a' }, 1, t0);
    list = setCondition(list, { type: 'Ready', status: 'False', reason: 'Syncing', message: 'b' }, 2, t1);
    assert.equal(list[0]?.lastTransitionTime, formatConditionTime(t0), 'same status: time kept');
    assert.equal(list[0]?.reason, 'Syncing');
    assert.equal(list[0]?.observedGeneration, 2);
    list = setCondition(list, { type: 'Ready', status: 'True', reason: 'Synced', message: 'c' }, 2, t2);
    assert.equal(list[0]?.lastTransitionTime, formatConditionTime(t2), 'status changed: time moved');
  });

  void it('does not modify its input and keeps other conditions in place', () => {
    const ready: Condition = {
      type: 'Ready',
      status: 'True',
      lastTransitionTime: '2025-01-01T00:00:00Z',
      reason: 'Up',
      message: '',
    };
    const degraded: Condition = {
      type: 'Degraded',
      status: 'False',
      lastTransitionTime: '2025-01-01T00:00:00Z',
      reason: 'Ok',
      message: '',
    };
    const input = [ready, degraded];
    const snapshot = structuredClone(input);
    const out = setCondition(
      input,
      { type: 'Degraded', status: 'True', reason: 'Crashed', message: 'x' },
      undefined,
      t1,
    );
    assert.deepEqual(input, snapshot);
    assert.equal(out[0], ready, 'untouched entries keep their identity');
    assert.deepEqual(
      out.map((c) => c.type),
      ['Ready', 'Degraded'],
    );
    assert.equal(out[1]?.observedGeneration, undefined);
  });

  void it('reports an unchanged list as equal (no status patch needed)', () => {
    const a = setCondition([], { type: 'Provisioned', status: 'True', reason: 'Created', message: 'ok' }, 1, t0);
    const b = setCondition(a, { type: 'Provisioned', status: 'True', reason: 'Created', message: 'ok' }, 1, t2);
    assert.ok(conditionsEqual(a, b));
    const c = setCondition(b, { type: 'Provisioned', status: 'True', reason: 'Created', message: 'ok' }, 2, t2);
    assert.ok(!conditionsEqual(b, c), 'a new observedGeneration is a change');
  });

  void it('refuses reasons the API server would refuse', () => {
    for (const reason of ['', 'not camel', 'Trailing,', '9Lives', 'a'.repeat(1025)]) {
      assert.throws(
        () => setCondition([], { type: 'Ready', status: 'True', reason, message: '' }, 1, t0),
        RangeError,
        reason,
      );
    }
    assert.throws(
      () => setCondition([], { type: 'Ready', status: 'Maybe' as 'True', reason: 'X', message: '' }, 1, t0),
      RangeError,
    );
  });

  void it('truncates very long messages to the API limit', () => {
    const out = setCondition([], { type: 'Ready', status: 'False', reason: 'X', message: 'é'.repeat(40000) }, 1, t0);
    assert.equal([...(out[0]?.message ?? '')].length, 32768);
  });

  void it('finds and removes conditions', () => {
    const list = setCondition([], { type: 'Ready', status: 'True', reason: 'Up', message: '' }, 1, t0);
    assert.ok(isConditionTrue(list, 'Ready'));
    assert.ok(!isConditionFalse(list, 'Ready'));
    assert.ok(!isConditionTrue(list, 'Degraded'));
    assert.equal(findCondition(list, 'Degraded'), undefined);
    assert.deepEqual(removeCondition(list, 'Ready'), []);
  });
});

void describe('computePhase', () => {
  const at = (updates: Array<[string, 'True' | 'False' | 'Unknown', string?]>): Condition[] =>
    updates.reduce<Condition[]>(
      (list, [type, status, reason]) => setCondition(list, { type, status, reason: reason ?? 'R', message: '' }, 1, t0),
      [],
    );

  void it('follows the documented precedence', () => {
    assert.equal(computePhase({ conditions: undefined }), 'Pending');
    assert.equal(computePhase({ conditions: at([['Provisioned', 'False']]) }), 'Provisioning');
    assert.equal(
      computePhase({
        conditions: at([
          ['Provisioned', 'True'],
          ['Progressing', 'True'],
        ]),
      }),
      'Progressing',
    );
    assert.equal(
      computePhase({
        conditions: at([
          ['Provisioned', 'True'],
          ['Ready', 'True'],
        ]),
      }),
      'Running',
    );
    assert.equal(
      computePhase({
        conditions: at([
          ['Provisioned', 'True'],
          ['Ready', 'True'],
          ['Progressing', 'True'],
        ]),
      }),
      'Progressing',
      'an upgrade in progress shows even while the node is ready',
    );
    assert.equal(
      computePhase({
        conditions: at([
          ['Ready', 'True'],
          ['Degraded', 'True', 'HeightStalled'],
        ]),
      }),
      'Degraded',
    );
    assert.equal(computePhase({ conditions: at([['Degraded', 'True', 'InvalidHostName']]) }), 'Failed');
    assert.equal(computePhase({ conditions: at([['Degraded', 'True', 'InvalidHostName']]), paused: true }), 'Paused');
    assert.equal(computePhase({ conditions: at([['Ready', 'True']]), paused: true, deleting: true }), 'Terminating');
  });

  void it('treats every spec error reason as Failed', () => {
    for (const reason of SPEC_ERROR_REASONS) {
      assert.equal(computePhase({ conditions: at([['Degraded', 'True', reason]]) }), 'Failed', reason);
    }
  });
});
