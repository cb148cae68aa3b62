import * as k8s from '@kubernetes/client-node';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CachedInformer } from '../../k8s/informer.js';
import type { SymbolNode } from '../../k8s/symbolNode.js';
import { SymbolNodeWatcher } from '../../worker/watcher.js';

/** A stand-in API server that lists two SymbolNodes and holds the watch open. */
async function symbolNodesApi(): Promise<{ informer: CachedInformer<SymbolNode>; close(): Promise<void> }> {
  const node = (name: string, uid: string) => ({
    metadata: { name, namespace: 'ns', uid, generation: 1, resourceVersion: '5' },
    spec: { network: 'sai' },
    status: { observedGeneration: 1 },
  });
  const open = new Set<import('node:http').ServerResponse>();
  const server = createServer((request, response) => {
    open.add(response);
    response.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    if (!request.url?.includes('watch=true')) {
      response.end(
        JSON.stringify({ metadata: { resourceVersion: '5' }, items: [node('up', 'u1'), node('ended', 'u2')] }),
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = async () =>
    (await custom.listNamespacedCustomObject({
      group: 'symbol.nodeoperator.io',
      version: 'v1alpha1',
      plural: 'symbolnodes',
      namespace: 'ns',
    })) as k8s.KubernetesListObject<SymbolNode>;
  const informer = new CachedInformer<SymbolNode>('symbolnodes', {
    kubeConfig: kc,
    path: '/apis/symbol.nodeoperator.io/v1alpha1/namespaces/ns/symbolnodes',
    list,
  });
  return {
    informer,
    close: async () => {
      await informer.stop();
      for (const response of open) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('SymbolNode watcher resync', () => {
  it('starts again the lifecycles that do not run, and leaves running ones alone (no signal, no history)', async () => {
    const api = await symbolNodesApi();
    const started: string[] = [];
    const described: string[] = [];
    const client = {
      connection: { withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() },
      workflow: {
        signalWithStart: (_workflow: unknown, options: { workflowId: string }) => {
          started.push(options.workflowId);
          return Promise.resolve();
        },
        getHandle: (workflowId: string) => ({
          describe: () => {
            described.push(workflowId);
            return workflowId.includes('/ended/')
              ? Promise.reject(new WorkflowNotFoundError('terminated by hand', workflowId, undefined))
              : Promise.resolve({ status: { name: 'RUNNING' } });
          },
        }),
      },
    } as unknown as Client;
    const watcher = new SymbolNodeWatcher({
      symbolNodes: api.informer,
      client,
      taskQueue: 'q',
      resyncMs: 3_600_000,
      log: () => undefined,
    });
    try {
      await watcher.start();
      const settle = async () => {
        for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      };
      await settle();
      assert.deepEqual(started.sort(), ['symbolnode/ns/ended/u2', 'symbolnode/ns/up/u1'], 'first sight: both');

      started.length = 0;
      watcher.resync();
      await settle();
      assert.deepEqual(described.sort(), ['symbolnode/ns/ended/u2', 'symbolnode/ns/up/u1']);
      assert.deepEqual(started, ['symbolnode/ns/ended/u2'], 'only the lifecycle that was not running');

      started.length = 0;
      assert.equal(await watcher.reassert('ns', 'up'), true);
      assert.deepEqual(started, ['symbolnode/ns/up/u1'], 'a report that found no lifecycle starts it at once');
      assert.equal(await watcher.reassert('ns', 'gone'), false, 'not a watched node');
    } finally {
      await watcher.stop();
      await api.close();
    }
  });
});
