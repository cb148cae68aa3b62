import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Redacted } from '../../worker/config.js';
import { createLogger, lineLogger, logLevelFromEnv, temporalLogger, type LoggerOptions } from '../../worker/log.js';

const fixedTime = new Date('2026-12-02T13:00:00.000Z');

function capture(options: Omit<LoggerOptions, 'sink' | 'now'> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, sink: (line) => lines.push(line), now: () => fixedTime });
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

// Shaped like a Symbol private key; generated for this test, never used anywhere.
const privateKey = 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90';
const publicKey = '0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0';

describe('operator log', () => {
  it('writes one JSON object per event: time, level, msg, then the fields', () => {
    const { logger, lines, entries } = capture();
    logger.info('provisioned', { node: 'symbol/sai-peer', workflowId: 'symbolnode/symbol/sai-peer/u1', replicas: 1 });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes('\n'));
    assert.deepEqual(entries()[0], {
      time: '2026-12-02T13:00:00.000Z',
      level: 'info',
      msg: 'provisioned',
      node: 'symbol/sai-peer',
      workflowId: 'symbolnode/symbol/sai-peer/u1',
      replicas: 1,
    });
    assert.deepEqual(Object.keys(entries()[0]!).slice(0, 3), ['time', 'level', 'msg']);
  });

  it('drops events below the level; SNO_LOG_LEVEL sets it, info by default, a typo is refused', () => {
    const { logger, entries } = capture({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    assert.deepEqual(
      entries().map((e) => [e.level, e.msg]),
      [
        ['warn', 'w'],
        ['error', 'e'],
      ],
    );
    const all = capture({ level: 'debug' });
    all.logger.debug('d');
    assert.equal(all.entries()[0]!.level, 'debug');
    assert.equal(capture().logger.debug('d'), undefined);

    assert.equal(logLevelFromEnv({}), 'info');
    assert.equal(logLevelFromEnv({ SNO_LOG_LEVEL: 'DEBUG' }), 'debug');
    assert.equal(logLevelFromEnv({ SNO_LOG_LEVEL: 'error' }), 'error');
    assert.throws(() => logLevelFromEnv({ SNO_LOG_LEVEL: 'verbose' }), /SNO_LOG_LEVEL=verbose/);
  });

  it('child loggers add their fields; the entry keys cannot be overwritten', () => {
    const { logger, entries } = capture();
    const node = logger.child({ node: 'symbol/a' }).child({ workflowId: 'w1' });
    node.warn('slow', { level: 'debug', msg: 'forged', time: 'then', attempt: 2 });
    assert.deepEqual(entries()[0], {
      time: '2026-12-02T13:00:00.000Z',
      level: 'warn',
      msg: 'slow',
      node: 'symbol/a',
      workflowId: 'w1',
      attempt: 2,
    });
  });

  it('never writes secrets: key-named fields, 64-hex values under key names, keys in messages, Redacted', () => {
    const { logger, lines, entries } = capture();
    logger.info(`generated main key privateKey=${privateKey} and "signingKey": "${privateKey.toLowerCase()}"`, {
      privateKey,
      nodeKey: privateKey,
      publicKey,
      nested: { account: { privateKey, publicKey }, list: [{ password: 'hunter2' }] },
      apiKey: new Redacted('temporal-api-key-value'),
      webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX',
      error: Object.assign(new Error(`bad key privateKey: ${privateKey}`), { body: `{"data":"${privateKey}"}` }),
    });
    assert.ok(!lines.join('\n').toUpperCase().includes(privateKey), lines.join('\n'));
    assert.ok(!lines.join('\n').includes('hunter2'));
    assert.ok(!lines.join('\n').includes('temporal-api-key-value'));
    assert.ok(!lines.join('\n').includes('XXXX'));
    const entry = entries()[0]!;
    assert.equal(entry.privateKey, '[redacted]');
    assert.equal(entry.nodeKey, '[redacted]');
    assert.equal(entry.publicKey, publicKey, 'public keys stay readable');
    assert.deepEqual(entry.nested, {
      account: { privateKey: '[redacted]', publicKey },
      list: [{ password: '[redacted]' }],
    });
    assert.match(String(entry.msg), /privateKey=\[redacted\] and "signingKey": "\[redacted\]"/);
    assert.deepEqual(entry.error, { name: 'Error', message: 'bad key privateKey: [redacted]' });
  });

  it('serialises what JSON cannot: errors with code and cause, bigint, cycles, buffers', () => {
    const { logger, entries } = capture();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const error = Object.assign(new Error('connect ECONNREFUSED', { cause: new Error('socket') }), {
      code: 'ECONNREFUSED',
    });
    logger.error('failed', { error, height: 12n, cyclic, data: Buffer.from('abc'), when: fixedTime, fn: () => 1 });
    const entry = entries()[0]!;
    assert.deepEqual(entry.error, {
      name: 'Error',
      message: 'connect ECONNREFUSED',
      code: 'ECONNREFUSED',
      cause: { name: 'Error', message: 'socket' },
    });
    assert.equal(entry.height, '12');
    assert.deepEqual(entry.cyclic, { name: 'a', self: '[circular]' });
    assert.equal(entry.data, '[3 bytes]');
    assert.equal(entry.when, '2026-12-02T13:00:00.000Z');
    assert.ok(!('fn' in entry));
  });

  it("routes the Temporal SDK's log and prefixed lines through the same logger", () => {
    const { logger, entries } = capture();
    const sdk = temporalLogger(logger, 'INFO');
    sdk.debug('below the SDK level');
    sdk.info('Worker state changed', { state: 'RUNNING', taskQueue: 'q', sdkComponent: 'worker' });
    sdk.warn('Activity failed', { workflowId: 'w1', activityType: 'applyStatefulSet' });
    const line = lineLogger(logger, 'warn');
    line('[pods] could not report pod symbol/a-0; retrying');
    line('no prefix');
    assert.deepEqual(
      entries().map(({ time: _time, ...rest }) => rest),
      [
        {
          level: 'info',
          msg: 'Worker state changed',
          source: 'temporal',
          state: 'RUNNING',
          taskQueue: 'q',
          sdkComponent: 'worker',
        },
        {
          level: 'warn',
          msg: 'Activity failed',
          source: 'temporal',
          workflowId: 'w1',
          activityType: 'applyStatefulSet',
        },
        { level: 'warn', msg: 'could not report pod symbol/a-0; retrying', component: 'pods' },
        { level: 'warn', msg: 'no prefix' },
      ],
    );
  });
});
