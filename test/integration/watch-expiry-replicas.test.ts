import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { CachedInformer } from '../../k8s/cache.js';
import type { SymbolNode } from '../../k8s/symbolNode.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault, podFaultAnnotations } from '../support/faults.js';
import { conditionOf, createSymbolNode, untilNode, saiPeerSpec } from '../support/symbolNodes.js';
import { newTaskQueue, withWatchOperators } from '../support/watchOperator.js';

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** client-node's ListWatch, as far as this test reaches into it. */
interface ListWatchInternals {
  resourceVersion: string;
  request?: AbortController;
}

/**
 * The informer's watch drops, and it comes back with a resource version the API server has long compacted away
 * (etcd's first revisions): kube-apiserver answers 410 Gone (Expired), as it does to any watcher that was away too
 * long, and the cache must list again to go on.
 */
function expireWatch(informer: CachedInformer<k8s.V1Pod>): void {
  const listWatch = (informer as unknown as { informer: ListWatchInternals }).informer;
  listWatch.resourceVersion = '1';
  listWatch.request?.abort();
}

test('R4: watch expiry (410 Gone, re-list) and two operator replicas during a remediation: one remediation, one recovery Job, one alert', async () => {
  const received: Record<string, unknown>[] = [];
  const receiver = createServer((request, response) => {
    void body(request).then((text) => {
      received.push(JSON.parse(text) as Record<string, unknown>);
      response.writeHead(200).end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const port = (receiver.address() as AddressInfo).port;
  try {
    await withNamespace('replicas', async (namespace, kc) => {
      const webhookSecret = { namespace, name: 'alert-webhook', key: 'url' };
      await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
        namespace,
        body: { metadata: { name: webhookSecret.name }, stringData: { url: `http://127.0.0.1:${port}/hooks/r4` } },
      });
      // Two replicas on one task queue, both watching, both resyncing often (every report is sent twice or more).
      const replica = {
        namespace,
        taskQueue: newTaskQueue(),
        resyncMs: 2000,
        podResyncMs: 2000,
        alertWebhookSecret: webhookSecret,
        remediation: { recoveryJobAttempts: 1, backoffMs: 500 },
      };
      await withWatchOperators([replica, replica], async (operators) => {
        const [first, second] = operators.map((o) => o.operator);
        const { client } = operators[0]!;
        // The recovery Job's pods fail (as catapult.recovery does on broken data): the remediation escalates.
        const created = await createSymbolNode(kc, namespace, 'mu', {
          ...saiPeerSpec,
          podAnnotations: podFaultAnnotations({ kind: 'job-failed', exitCode: 1 }),
        });
        const until = (predicate: (node: SymbolNode) => boolean) => untilNode(kc, namespace, 'mu', predicate);
        await until((node) => conditionOf(node, 'Ready')?.status === 'True');
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'mu', uid: created.metadata!.uid! });

        await injectPodFault(kc, namespace, 'mu-0', {
          kind: 'crash-loop',
          container: 'server',
          exitCode: 253,
          restartInterval: '1s',
        });
        // During the remediation, both replicas' pod watches expire.
        await watchUntil<k8s.V1Job>(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, {}, () => true, 90_000);
        const listsBefore = [first!, second!].map((o) => o.cache.nodePods.health().lists);
        for (const operator of [first!, second!]) expireWatch(operator.cache.nodePods);

        const escalated = await until((node) => conditionOf(node, 'Degraded')?.reason === 'RecoveryFailed');
        assert.equal(conditionOf(escalated, 'Ready')?.status, 'False');
        // A few resyncs of both replicas later, nothing more was started or sent.
        const relisted = async (deadline = Date.now() + 60_000) => {
          for (;;) {
            const lists = [first!, second!].map((o) => o.cache.nodePods.health().lists);
            if (lists.every((n, i) => n > listsBefore[i]!)) return;
            if (Date.now() > deadline)
              assert.fail(`no re-list after 410 Gone: lists ${listsBefore.join(', ')} -> ${lists.join(', ')}`);
            await sleep(200);
          }
        };
        await relisted();
        await sleep(6000);

        for (const operator of [first!, second!]) {
          const pods = operator.cache.nodePods.health();
          assert.ok(pods.synced && pods.healthy, `pod informer healthy after the 410: ${JSON.stringify(pods)}`);
          assert.ok(pods.lists >= 2, `re-listed after 410 Gone: ${JSON.stringify(pods)}`);
        }
        await client.workflow.getHandle(`${lifecycleId}/remediate/1`).describe();
        await assert.rejects(
          client.workflow.getHandle(`${lifecycleId}/remediate/2`).describe(),
          WorkflowNotFoundError,
          'one remediation',
        );
        const jobs = await kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace });
        assert.equal(jobs.items.length, 1, `one recovery Job: ${jobs.items.map((j) => j.metadata?.name).join(', ')}`);
        assert.equal(received.length, 1, `one alert: ${JSON.stringify(received)}`);
        assert.equal(received[0]!.reason, 'RecoveryFailed');
      });
    });
  } finally {
    receiver.close();
  }
});
