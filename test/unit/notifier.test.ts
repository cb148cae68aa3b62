import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

import {
  alertFromProblem,
  CompositeNotifier,
  webhookUrlFromSecret,
  WebhookNotifier,
  type Alert,
  type Notifier,
  type WebhookBody,
} from '../../activities/notifier.js';
import type { PodProblem } from '../../workflows/remediation/index.js';

/** The secret part of the URL, as in Slack's and Discord's webhook URLs. */
const TOKEN = 'T0000000/B1111111/s3cr3tXyZtoken';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: WebhookBody;
}

interface Receiver {
  url: string;
  host: string;
  requests: Received[];
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1. `respond` gets the 1-based request number and returns the status code. */
async function receiver(respond: (n: number) => number | 'hang' = () => 200): Promise<Receiver> {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody,
      });
      const status = respond(requests.length);
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/${TOKEN}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    node: { namespace: 'symbol', name: 'node-a' },
    severity: 'critical',
    reason: 'CrashLoopBackOff',
    message: 'container server is in CrashLoopBackOff after 7 restarts; last exited with code 253',
    at: new Date('2025-06-01T12:00:00.000Z'),
    ...overrides,
  };
}

/** A settable clock for the dedupe window and the rate limit. */
function clock(start = Date.parse('2025-06-01T12:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function assertNoSecret(text: string): void {
  assert.ok(!text.includes(TOKEN), `contains the token: ${text}`);
  assert.ok(!text.includes('s3cr3t'), `contains part of the token: ${text}`);
  assert.ok(!text.includes('/services/'), `contains the URL path: ${text}`);
}

void describe('WebhookNotifier', () => {
  void it('posts one JSON body that Slack, Discord and generic receivers accept', async () => {
    const rx = await receiver();
    const logs: string[] = [];
    try {
      const notifier = new WebhookNotifier({ url: rx.url, log: (l) => logs.push(l) });
      const result = await notifier.send(alert());
      assert.deepEqual(result, { status: 'sent', attempts: 1, httpStatus: 200, suppressedIncluded: 0 });
      assert.equal(rx.requests.length, 1);
      const [req] = rx.requests as [Received];
      assert.equal(req.method, 'POST');
      assert.equal(req.path, `/services/${TOKEN}`);
      assert.match(req.headers['content-type'] ?? '', /^application\/json/);
      const body = req.body;
      assert.equal(
        body.text,
        '[CRITICAL] symbol/node-a: CrashLoopBackOff: container server is in CrashLoopBackOff after 7 restarts; last exited with code 253',
      );
      assert.equal(body.content, body.text);
      assert.deepEqual(body.allowed_mentions, { parse: [] });
      assert.equal(body.node, 'node-a');
      assert.equal(body.namespace, 'symbol');
      assert.equal(body.severity, 'critical');
      assert.equal(body.reason, 'CrashLoopBackOff');
      assert.equal(body.message, alert().message);
      assert.equal(body.at, '2025-06-01T12:00:00.000Z');
      assert.equal(body.suppressed, 0);
      assertNoSecret(JSON.stringify(body));
      assert.deepEqual(notifier.stats(), { sent: 1, duplicates: 0, rateLimited: 0, failed: 0, suppressedPending: 0 });
    } finally {
      await rx.close();
    }
  });

  void it('keeps Discord content within 2000 characters', async () => {
    const rx = await receiver();
    try {
      await new WebhookNotifier({ url: rx.url }).send(alert({ message: 'x'.repeat(5000) }));
      const body = rx.requests[0]?.body;
      assert.ok(body);
      assert.equal(body.content.length, 2000);
      assert.equal(body.message.length, 5000);
    } finally {
      await rx.close();
    }
  });

  void it('sends every alert the lifecycle decided on; drops only a repeated delivery of one idempotency key', async () => {
    const rx = await receiver();
    try {
      const notifier = new WebhookNotifier({ url: rx.url });
      const key = 'symbolnode/symbol/node-a/uid/alert/1';
      assert.equal((await notifier.send(alert({ idempotencyKey: key }))).status, 'sent');
      assert.deepEqual(await notifier.send(alert({ idempotencyKey: key })), { status: 'duplicate' }, 'a retry');
      const next = 'symbolnode/symbol/node-a/uid/alert/2';
      assert.equal((await notifier.send(alert({ idempotencyKey: next }))).status, 'sent', 'the next alert');
      assert.equal((await notifier.send(alert())).status, 'sent', 'no key: no dedupe here, the lifecycle decides');
      assert.equal((await notifier.send(alert())).status, 'sent');
      assert.equal(rx.requests.length, 4);
      assert.equal(rx.requests[0]?.headers['idempotency-key'], key);
      assert.equal(rx.requests[0]?.body.idempotencyKey, key);
      assert.equal(rx.requests[1]?.headers['idempotency-key'], next);
      assert.equal(rx.requests[2]?.headers['idempotency-key'], undefined);
      assert.equal(notifier.stats().duplicates, 1);
    } finally {
      await rx.close();
    }
  });

  void it('rate-limits globally and reports the suppressed alerts in the next one sent', async () => {
    const rx = await receiver();
    const c = clock();
    try {
      const notifier = new WebhookNotifier({ url: rx.url, maxPerMinute: 2, now: c.now });
      const node = (i: number) => ({ namespace: 'symbol', name: `node-${i}` });
      const results = [];
      for (let i = 0; i < 5; i++) results.push((await notifier.send(alert({ node: node(i) }))).status);
      assert.deepEqual(results, ['sent', 'sent', 'rateLimited', 'rateLimited', 'rateLimited']);
      assert.equal(rx.requests.length, 2);
      assert.deepEqual(notifier.stats(), { sent: 2, duplicates: 0, rateLimited: 3, failed: 0, suppressedPending: 3 });

      c.advance(61_000);
      const next = await notifier.send(alert({ node: node(9), reason: 'NodeLost' }));
      assert.equal(next.status, 'sent');
      assert.equal(next.status === 'sent' && next.suppressedIncluded, 3);
      const body = rx.requests[2]?.body;
      assert.ok(body);
      assert.equal(body.suppressed, 3);
      assert.match(body.text, /3 alerts suppressed by the rate limit/);
      assert.match(body.text, /symbol\/node-2 CrashLoopBackOff, symbol\/node-3 CrashLoopBackOff/);
      assert.equal(notifier.stats().suppressedPending, 0);

      const after = await notifier.send(alert({ node: node(10) }));
      assert.equal(after.status, 'sent');
      assert.equal(rx.requests[3]?.body.suppressed, 0, 'the summary is reported once');
    } finally {
      await rx.close();
    }
  });

  void it('retries on HTTP 500 with backoff and then succeeds', async () => {
    const rx = await receiver((n) => (n <= 2 ? 500 : 200));
    const logs: string[] = [];
    const sleeps: number[] = [];
    try {
      const notifier = new WebhookNotifier({
        url: rx.url,
        maxAttempts: 3,
        backoffMs: 10,
        sleep: async (ms) => {
          sleeps.push(ms);
          await new Promise((r) => setTimeout(r, ms));
        },
        log: (l) => logs.push(l),
      });
      const result = await notifier.send(alert());
      assert.deepEqual(result, { status: 'sent', attempts: 3, httpStatus: 200, suppressedIncluded: 0 });
      assert.deepEqual(sleeps, [10, 20], 'exponential backoff');
      assert.equal(rx.requests.length, 3);
      assert.deepEqual(rx.requests[2]?.body, rx.requests[0]?.body, 'the same body each time');
      for (const line of logs) assertNoSecret(line);
    } finally {
      await rx.close();
    }
  });

  void it('does not retry a permanent client error (404: webhook revoked)', async () => {
    const rx = await receiver(() => 404);
    try {
      const result = await new WebhookNotifier({ url: rx.url, backoffMs: 1, log: () => undefined }).send(alert());
      assert.deepEqual(result, { status: 'failed', attempts: 1, error: 'HTTP 404' });
      assert.equal(rx.requests.length, 1);
    } finally {
      await rx.close();
    }
  });

  void it('gives up after a bounded number of attempts when the receiver is down, without throwing or leaking the URL', async () => {
    const rx = await receiver();
    await rx.close(); // nothing listens on this port any more
    const logs: string[] = [];
    const notifier = new WebhookNotifier({ url: rx.url, maxAttempts: 3, backoffMs: 5, log: (l) => logs.push(l) });
    const started = Date.now();
    const result = await notifier.send(alert());
    assert.equal(result.status, 'failed');
    assert.equal(result.status === 'failed' && result.attempts, 3);
    assert.ok(result.status === 'failed' && /ECONNREFUSED/.test(result.error), JSON.stringify(result));
    assertNoSecret(JSON.stringify(result));
    assert.ok(Date.now() - started < 5_000, 'bounded');

    await notifier.notify(alert({ reason: 'OOMKilled' })); // the Notifier interface resolves too
    assert.deepEqual(notifier.stats(), { sent: 0, duplicates: 0, rateLimited: 0, failed: 2, suppressedPending: 0 });
    assert.equal((await notifier.send(alert())).status, 'failed', 'an undelivered alert is not a duplicate');

    assert.equal(logs.length, 3);
    for (const line of logs) {
      assertNoSecret(line);
      assert.ok(line.includes(rx.host), `names the host: ${line}`);
    }
  });

  void it('times out a receiver that never answers', async () => {
    const rx = await receiver(() => 'hang');
    try {
      const notifier = new WebhookNotifier({
        url: rx.url,
        timeoutMs: 100,
        maxAttempts: 2,
        backoffMs: 1,
        log: () => {},
      });
      const result = await notifier.send(alert());
      assert.deepEqual(result, { status: 'failed', attempts: 2, error: 'timed out after 100 ms' });
      assert.equal(rx.requests.length, 2);
    } finally {
      await rx.close();
    }
  });

  void it('keeps suppressed counts when the alert carrying them fails', async () => {
    let up = true;
    const rx = await receiver(() => (up ? 200 : 503));
    const c = clock();
    try {
      const notifier = new WebhookNotifier({
        url: rx.url,
        maxPerMinute: 1,
        maxAttempts: 1,
        now: c.now,
        log: () => {},
      });
      await notifier.send(alert({ reason: 'A' }));
      assert.equal((await notifier.send(alert({ reason: 'B' }))).status, 'rateLimited');
      c.advance(61_000);
      up = false;
      assert.equal((await notifier.send(alert({ reason: 'C' }))).status, 'failed');
      assert.equal(notifier.stats().suppressedPending, 1);
      c.advance(61_000);
      up = true;
      assert.equal((await notifier.send(alert({ reason: 'D' }))).status, 'sent');
      assert.equal(rx.requests.at(-1)?.body.suppressed, 1);
    } finally {
      await rx.close();
    }
  });

  void it('rejects a non-http(s) URL naming only its host', () => {
    assert.throws(
      () => new WebhookNotifier({ url: `ftp://hooks.example.org/${TOKEN}` }),
      (e: Error) => /hooks\.example\.org/.test(e.message) && !e.message.includes(TOKEN),
    );
  });
});

void describe('CompositeNotifier', () => {
  void it('fans out to every notifier; one failing does not stop the others or throw', async () => {
    const seen: string[] = [];
    const failing: Notifier = { notify: () => Promise.reject(new Error('events API unavailable')) };
    const recording: Notifier = {
      notify: (a) => {
        seen.push(`${a.node.name}:${a.reason}`);
        return Promise.resolve();
      },
    };
    const logs: string[] = [];
    const composite = new CompositeNotifier([failing, recording], { log: (l) => logs.push(l) });
    assert.deepEqual(await composite.notifyAll(alert()), [
      { ok: false, error: 'events API unavailable' },
      { ok: true },
    ]);
    await composite.notify(alert({ reason: 'OOMKilled' }));
    assert.deepEqual(seen, ['node-a:CrashLoopBackOff', 'node-a:OOMKilled']);
    assert.equal(logs.length, 2);
  });

  void it('includes a webhook sink', async () => {
    const rx = await receiver();
    try {
      const composite = new CompositeNotifier([new WebhookNotifier({ url: rx.url })]);
      await composite.notify(alert());
      assert.equal(rx.requests.length, 1);
    } finally {
      await rx.close();
    }
  });
});

void describe('webhookUrlFromSecret', () => {
  const secret = (data: Record<string, string>, stringData?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'alerts', namespace: 'symbol-system' },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    ...(stringData ? { stringData } : {}),
  });
  const url = `https://hooks.slack.com/services/${TOKEN}`;

  void it('reads and trims an http(s) URL from data or stringData', () => {
    assert.equal(webhookUrlFromSecret(secret({ url: `${url}\n` }), 'url'), url);
    assert.equal(webhookUrlFromSecret(secret({}, { url }), 'url'), url);
    assert.equal(
      webhookUrlFromSecret(secret({ u: 'http://receiver.local:8080/hook' }), 'u'),
      'http://receiver.local:8080/hook',
    );
  });

  void it('fails with one line that names the Secret and key but never the value', () => {
    const cases: [ReturnType<typeof secret>, RegExp][] = [
      [secret({}), /Secret symbol-system\/alerts has no key "url"/],
      [secret({ url: '  ' }), /is empty/],
      [secret({ url: `ftp://files.example.org/${TOKEN}` }), /uses ftp; expected an http\(s\) webhook URL/],
      [secret({ url: `javascript:alert("${TOKEN}")` }), /uses javascript/],
      [secret({ url: `not a url ${TOKEN}` }), /contains whitespace/],
      [secret({ url: `hooks.slack.com/services/${TOKEN}` }), /not a valid URL/],
    ];
    for (const [s, expected] of cases) {
      assert.throws(
        () => webhookUrlFromSecret(s, 'url'),
        (e: Error) => {
          assert.match(e.message, expected);
          assert.doesNotMatch(e.message, /\n/);
          assertNoSecret(e.message);
          return true;
        },
      );
    }
  });
});

void describe('alertFromProblem', () => {
  const node = { namespace: 'symbol', name: 'node-a' };
  const at = new Date('2025-06-01T12:00:00Z');
  const problem = (p: Partial<PodProblem>): PodProblem => ({
    kind: 'RestartsRising',
    container: 'server',
    reason: 'RestartsRising',
    message: 'container server restarted 2 times',
    uncleanStop: false,
    remediable: true,
    ...p,
  });

  void it('is critical when the node is down, needs a person or data may be unclean; warning otherwise', () => {
    assert.equal(alertFromProblem(node, problem({}), at).severity, 'warning');
    assert.equal(alertFromProblem(node, problem({ kind: 'BrokerDown', reason: 'BrokerDown' }), at).severity, 'warning');
    assert.equal(alertFromProblem(node, problem({ kind: 'ImagePull', remediable: false }), at).severity, 'critical');
    assert.equal(alertFromProblem(node, problem({ kind: 'UncleanExit', uncleanStop: true }), at).severity, 'critical');
    assert.equal(alertFromProblem(node, problem({ kind: 'CrashLoop' }), at).severity, 'critical');
    assert.deepEqual(alertFromProblem(node, problem({}), at), {
      node,
      severity: 'warning',
      reason: 'RestartsRising',
      message: 'container server restarted 2 times',
      at,
    });
  });
});
