import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

import { reuseConnections } from '../../k8s/client.js';
import { kubernetesVerb, observeKubernetesRequests } from '../../k8s/requestObserver.js';
import { startHealthServer } from '../../worker/health.js';
import { createOperatorMetrics, freeLoopbackPort, renderMetrics } from '../../worker/metrics.js';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** The sample lines of one metric family, without HELP/TYPE. */
const samples = (text: string, name: string): string[] =>
  text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

describe('operator metrics', () => {
  it('names the Kubernetes verbs as the API server does', () => {
    const cases: [string, string, string][] = [
      ['GET', '/api/v1/namespaces/symbol/pods/a-0', 'get'],
      ['GET', '/api/v1/namespaces/symbol/pods', 'list'],
      ['GET', '/api/v1/namespaces/symbol/pods?labelSelector=a%3Db&watch=true&resourceVersion=5', 'watch'],
      ['GET', '/api/v1/namespaces/symbol', 'get'],
      ['GET', '/api/v1/namespaces', 'list'],
      ['GET', '/api/v1/nodes/real-node', 'get'],
      ['GET', '/apis/symbol.nodeoperator.io/v1alpha1/symbolnodes?watch=1', 'watch'],
      ['GET', '/apis/apps/v1/namespaces/symbol/statefulsets/a/scale', 'get'],
      ['PATCH', '/apis/symbol.nodeoperator.io/v1alpha1/namespaces/symbol/symbolnodes/a/status', 'patch'],
      ['POST', '/apis/batch/v1/namespaces/symbol/jobs', 'create'],
      ['PUT', '/api/v1/namespaces/symbol/configmaps/a', 'update'],
      ['DELETE', '/api/v1/namespaces/symbol/pods/a-0', 'delete'],
      ['DELETE', '/api/v1/namespaces/symbol/pods', 'deletecollection'],
      ['OPTIONS', '/version', 'options'],
    ];
    for (const [method, path, verb] of cases) assert.equal(kubernetesVerb(method, path), verb, `${method} ${path}`);
  });

  it('counts every request of a KubeConfig by verb and status, and times it, once per request', async () => {
    const { server, url } = await listen((request, response) => {
      const found = request.url?.startsWith('/api/v1/namespaces/symbol/pods');
      response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(found ? { kind: 'PodList', apiVersion: 'v1', items: [] } : { kind: 'Status' }));
    });
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromClusterAndUser({ name: 'c', server: url, skipTLSVerify: true }, { name: 'u' });
      const set = createOperatorMetrics();
      // After reuseConnections, as loadKubeConfig makes it: the reused agent is instrumented once.
      observeKubernetesRequests(reuseConnections(kc), set.recordKubernetesRequest);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.listNamespacedPod({ namespace: 'symbol' });
      await core.listNamespacedPod({ namespace: 'symbol' });
      await assert.rejects(core.readNamespace({ name: 'missing' }));
      const text = await set.registry.metrics();
      assert.deepEqual(samples(text, 'symbol_operator_kubernetes_requests_total').sort(), [
        'symbol_operator_kubernetes_requests_total{verb="get",code="404"} 1',
        'symbol_operator_kubernetes_requests_total{verb="list",code="200"} 2',
      ]);
      assert.ok(
        samples(text, 'symbol_operator_kubernetes_request_duration_seconds_count').includes(
          'symbol_operator_kubernetes_request_duration_seconds_count{verb="list"} 2',
        ),
        text,
      );
    } finally {
      await close(server);
    }
  });

  it('counts a request without an answer as code="error"', async () => {
    const port = await freeLoopbackPort();
    const kc = new k8s.KubeConfig();
    kc.loadFromClusterAndUser({ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }, { name: 'u' });
    const set = createOperatorMetrics();
    observeKubernetesRequests(kc, set.recordKubernetesRequest);
    await assert.rejects(kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'a' } } }));
    assert.deepEqual(samples(await set.registry.metrics(), 'symbol_operator_kubernetes_requests_total'), [
      'symbol_operator_kubernetes_requests_total{verb="create",code="error"} 1',
    ]);
  });

  it('reports nodes by phase from the source on every scrape, every known phase present', async () => {
    const set = createOperatorMetrics();
    assert.deepEqual(samples(await set.registry.metrics(), 'symbol_operator_nodes'), [], 'no source: absent');
    let counts: Record<string, number> = { Running: 2, Degraded: 1 };
    set.setNodesByPhaseSource(() => counts);
    let lines = samples(await set.registry.metrics(), 'symbol_operator_nodes');
    assert.ok(lines.includes('symbol_operator_nodes{phase="Running"} 2'), lines.join('\n'));
    assert.ok(lines.includes('symbol_operator_nodes{phase="Degraded"} 1'));
    assert.ok(lines.includes('symbol_operator_nodes{phase="Provisioning"} 0'));
    counts = { Running: 3 };
    lines = samples(await set.registry.metrics(), 'symbol_operator_nodes');
    assert.ok(lines.includes('symbol_operator_nodes{phase="Running"} 3'));
    assert.ok(lines.includes('symbol_operator_nodes{phase="Degraded"} 0'), 'an emptied phase goes to 0');
  });

  it("serves its own metrics and the Temporal SDK's on /metrics, and its own alone when Core is away", async () => {
    const set = createOperatorMetrics();
    set.metrics.informerRestarts.inc({ informer: 'pods' });
    set.metrics.informerHealthy.set({ informer: 'pods' }, 1);
    const core = await listen((_request, response) =>
      response
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(
          '# HELP temporal_workflow_completed_total x\n# TYPE temporal_workflow_completed_total counter\n' +
            'temporal_workflow_completed_total{workflow_type="provisionNode"} 3\n',
        ),
    );
    const away = `http://127.0.0.1:${await freeLoopbackPort()}/metrics`;
    let temporalMetricsUrl = `${core.url}/metrics`;
    const health = await startHealthServer({
      port: 0,
      address: '127.0.0.1',
      state: () => ({ live: true, ready: true, detail: 'ok' }),
      metrics: () => renderMetrics({ set, temporalMetricsUrl }),
    });
    try {
      const response = await fetch(`http://127.0.0.1:${health.port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      assert.ok(
        samples(text, 'symbol_operator_informer_restarts_total').includes(
          'symbol_operator_informer_restarts_total{informer="pods"} 1',
        ),
      );
      assert.ok(
        samples(text, 'symbol_operator_informer_healthy').includes(
          'symbol_operator_informer_healthy{informer="pods"} 1',
        ),
      );
      assert.deepEqual(samples(text, 'symbol_operator_temporal_metrics_up'), ['symbol_operator_temporal_metrics_up 1']);
      assert.deepEqual(samples(text, 'temporal_workflow_completed_total'), [
        'temporal_workflow_completed_total{workflow_type="provisionNode"} 3',
      ]);
      for (const name of [
        'symbol_operator_kubernetes_requests_total',
        'symbol_operator_kubernetes_request_duration_seconds',
        'symbol_operator_nodes',
      ])
        assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));

      temporalMetricsUrl = away;
      const alone = await (await fetch(`http://127.0.0.1:${health.port}/metrics`)).text();
      assert.deepEqual(samples(alone, 'symbol_operator_temporal_metrics_up'), [
        'symbol_operator_temporal_metrics_up 0',
      ]);
      assert.deepEqual(samples(alone, 'temporal_workflow_completed_total'), []);
    } finally {
      await health.close();
      await close(core.server);
    }
  });
});
