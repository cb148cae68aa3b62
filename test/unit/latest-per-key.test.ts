import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LatestPerKey } from '../../worker/latestPerKey.js';

/** A send that records its start and end, and finishes when told to. */
function gatedSend(log: string[], name: string): { send: () => Promise<void>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    send: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    finish: () => finish(),
  };
}

void describe('LatestPerKey', () => {
  void it('sends one at a time per key, and after the one in flight only the newest waiting one', async () => {
    const log: string[] = [];
    const sender = new LatestPerKey();
    const [ready, notReady, readyAgain] = ['ready', 'not-ready', 'ready-again'].map((n) => gatedSend(log, n));
    sender.submit('pod-0', ready!.send);
    sender.submit('pod-0', notReady!.send);
    sender.submit('pod-0', readyAgain!.send);
    await sleep(5);
    assert.deepEqual(log, ['start ready'], 'nothing overtakes the send in flight');
    ready!.finish();
    readyAgain!.finish();
    await sender.idle();
    assert.deepEqual(log, ['start ready', 'end ready', 'start ready-again', 'end ready-again']);
  });

  void it('keys do not wait for each other, and a failed send does not stop the next', async () => {
    const log: string[] = [];
    const sender = new LatestPerKey();
    const slow = gatedSend(log, 'a');
    sender.submit('pod-a', slow.send);
    sender.submit('pod-b', () => Promise.resolve(void log.push('b')));
    await sleep(5);
    assert.deepEqual(log, ['start a', 'b']);
    sender.submit('pod-a', () => Promise.reject(new Error('unavailable')));
    sender.submit('pod-c', () => Promise.reject(new Error('unavailable')));
    sender.submit('pod-c', () => Promise.resolve(void log.push('c')));
    slow.finish();
    await sender.idle();
    assert.deepEqual(
      log.filter((entry) => entry !== 'c'),
      ['start a', 'b', 'end a'],
    );
    assert.ok(log.includes('c'), 'the send after a failed one went out');
  });
});
