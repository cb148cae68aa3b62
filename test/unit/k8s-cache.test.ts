import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CachedInformer, restartDelayMs, type RestartPolicy } from '../../k8s/informer.js';
import { reportsDiffer, ReportResync } from '../../worker/podResync.js';
import { describeInformers } from '../../worker/operator.js';

const policy: RestartPolicy = { initialDelayMs: 20, maxDelayMs: 100, resetAfterMs: 60_000 };

describe('informer restart policy', () => {
  it('doubles the delay up to the cap, with jitter between half and all of it', () => {
    const low = (failures: number) => restartDelayMs(policy, failures, () => 0);
    const high = (failures: number) => restartDelayMs(policy, failures, () => 1);
    assert.deepEqual([0, 1, 2, 3, 10, 1000].map(high), [20, 40, 80, 100, 100, 100]);
    assert.deepEqual([0, 1, 2, 3].map(low), [10, 20, 40, 50]);
  });
});

interface FakeApi {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/**
 * A stand-in API server for one collection of ConfigMaps: `answers` decides each list's and watch's reply.
 * (The real API server's behaviour is covered by the integration tests; this one makes failures on demand.)
 */
async function fakeApi(
  answer: (kind: 'list' | 'watch', n: number, response: ServerResponse) => void,
): Promise<FakeApi> {
  const requests: string[] = [];
  const counts = { list: 0, watch: 0 };
  const open = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response) => {
    const kind = new URL(request.url ?? '/', 'http://x').searchParams.get('watch') ? 'watch' : 'list';
    requests.push(kind);
    open.add(response);
    response.on('close', () => open.delete(response));
    answer(kind, counts[kind]++, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of open) response.destroy();
        server.close(() => resolve());
      }),
  };
}

function configMapList(resourceVersion: string, names: string[]): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMapList',
    metadata: { resourceVersion },
    items: names.map((name) => ({ metadata: { name, namespace: 'ns', resourceVersion } })),
  });
}

function informerOn(api: FakeApi): CachedInformer<k8s.V1ConfigMap> {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return new CachedInformer<k8s.V1ConfigMap>(
    'configmaps',
    {
      kubeConfig: kc,
      path: '/api/v1/namespaces/ns/configmaps',
      list: () => core.listNamespacedConfigMap({ namespace: 'ns' }),
    },
    policy,
  );
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('cached informer', () => {
  it('retries a failed start with backoff until the API answers, then is synced and healthy', async () => {
    const api = await fakeApi((kind, n, response) => {
      if (kind === 'list' && n < 3) return void response.writeHead(503).end('{}');
      if (kind === 'list')
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(configMapList('5', ['a']));
      response.writeHead(200, { 'content-type': 'application/json' }).flushHeaders(); // a watch that stays open
    });
    const informer = informerOn(api);
    const healthChanges: boolean[] = [];
    try {
      await informer.start();
      assert.equal(informer.synced(), false, 'the first list failed');
      await until(() => informer.health().healthy);
      const health = informer.health();
      assert.equal(health.synced, true);
      assert.equal(health.restarts, 3, 'each failed (re)start was retried');
      assert.match(health.lastError ?? '', /503/);
      assert.equal(informer.get('ns', 'a')?.metadata?.name, 'a');
      healthChanges.push(health.healthy);
    } finally {
      await informer.stop();
      await api.close();
    }
    assert.deepEqual(healthChanges, [true]);
  });

  it('re-lists after 410 Gone and reports what vanished meanwhile as deleted', async () => {
    const api = await fakeApi((kind, n, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      if (kind === 'list')
        return void response.end(configMapList(n === 0 ? '5' : '9', n === 0 ? ['a', 'b'] : ['a', 'c']));
      if (n === 0) {
        // The resource version is too old: the API server says so in the stream and ends it.
        response.end(
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`,
        );
      }
    });
    const informer = informerOn(api);
    const deleted: string[] = [];
    informer.on('delete', (object) => deleted.push(object.metadata?.name ?? ''));
    try {
      await informer.start();
      await until(() => informer.health().lists === 2 && informer.get('ns', 'c') !== undefined);
      assert.deepEqual(deleted, ['b']);
      assert.equal(informer.get('ns', 'b'), undefined);
      assert.equal(informer.health().restarts, 0, '410 is a re-list, not an error');
    } finally {
      await informer.stop();
      await api.close();
    }
  });

  it('a wait sees nothing until the collection is listed: an empty cache is not "deleted"', async () => {
    let listed = false;
    const api = await fakeApi((kind, n, response) => {
      if (kind === 'list' && !listed) return void response.writeHead(503).end('{}');
      response.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      if (kind === 'list') response.end(configMapList('5', ['a']));
    });
    const informer = informerOn(api);
    try {
      const gone = informer.waitFor('ns', 'a', (object) => (object ? undefined : 'gone'), { timeoutMs: 200 });
      assert.equal(await gone, undefined, 'timed out without an answer instead of "gone"');
      listed = true;
      const present = await informer.waitFor('ns', 'a', (object) => (object ? 'present' : undefined), {
        timeoutMs: 10_000,
      });
      assert.equal(present, 'present');
    } finally {
      await informer.stop();
      await api.close();
    }
  });
});

describe('pod report resync', () => {
  const base = { pod: 'n-0', podUid: 'u1', podReady: false };
  const imagePull = {
    kind: 'ImagePull' as const,
    kinds: ['ImagePull' as const],
    reason: 'ImagePullBackOff',
    message: 'cannot pull',
    uncleanStop: false,
    remediable: false,
  };

  it('finds a record that differs in pod, readiness or problem, not in wording', () => {
    assert.equal(reportsDiffer({ ...base, problem: imagePull }, undefined), true);
    assert.equal(reportsDiffer({ ...base, problem: imagePull }, base), true, 'problem never recorded');
    assert.equal(reportsDiffer(base, { ...base, problem: imagePull }), true, 'problem recorded that is over');
    assert.equal(reportsDiffer({ ...base, podReady: true }, base), true, 'Ready report lost');
    assert.equal(reportsDiffer(base, { ...base, podUid: 'u0' }), true, 'another pod');
    assert.equal(
      reportsDiffer({ ...base, problem: imagePull }, { ...base, problem: { ...imagePull, message: 'for 5m' } }),
      false,
    );
    assert.equal(reportsDiffer(base, { pod: 'n-0', podReady: false }), false, 'old records have no uid');
  });

  it('runs a pass with bounded concurrency and never two passes at once', async () => {
    const resync = new ReportResync(3);
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const each = async (item: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(item);
      running--;
    };
    const first = resync.pass([...Array(20).keys()], each);
    const second = resync.pass([100], each);
    await Promise.all([first, second]);
    assert.equal(most, 3);
    assert.equal(seen.length, 20, 'the pass asked while one ran was not doubled');
  });

  it('describes unhealthy informers for /readyz', () => {
    const ok = { synced: true, healthy: true, restarts: 0, lists: 1 };
    assert.equal(
      describeInformers([
        { informer: 'pods', ...ok },
        { informer: 'nodes', ...ok },
      ]),
      'informers synced (pods, nodes)',
    );
    assert.equal(
      describeInformers([
        { informer: 'pods', ...ok },
        { informer: 'nodes', synced: false, healthy: false, restarts: 4, lists: 0, lastError: 'connect ECONNREFUSED' },
      ]),
      'informers not healthy: nodes not synced, 4 restarts, last error: connect ECONNREFUSED',
    );
  });
});
