import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SymbolNode } from '../../k8s/symbolNode.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { conditionOf, createSymbolNode, untilNode, saiPeerSpec } from '../support/symbolNodes.js';
import {
  eventually,
  newTaskQueue,
  startWatchOperator,
  type WatchOperator,
  type WatchOperatorOptions,
} from '../support/watchOperator.js';

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const reason = 'CrashLoopBackOff';

test('issue 10: a reported-only problem alerts once across two operator replicas and replica restarts, however often it is reported', async () => {
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
    await withNamespace('alertdedupe', async (namespace, kc) => {
      const operators: WatchOperator[] = [];
      const webhookSecret = { namespace, name: 'alert-webhook', key: 'url' };
      await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
        namespace,
        body: { metadata: { name: webhookSecret.name }, stringData: { url: `http://127.0.0.1:${port}/hooks/i10` } },
      });
      // Replicas on one task queue, each with its own watcher (and its own process memory).
      const replica: WatchOperatorOptions = {
        namespace,
        taskQueue: newTaskQueue(),
        resyncMs: 2000,
        podResyncMs: 2000,
        alertWebhookSecret: webhookSecret,
      };
      const start = async () => {
        const started = await startWatchOperator(replica);
        operators.push(started);
        return started;
      };
      try {
        const first = await start();
        const second = await start();

        const created = await createSymbolNode(kc, namespace, 'nu', saiPeerSpec);
        const until = (predicate: (node: SymbolNode) => boolean) => untilNode(kc, namespace, 'nu', predicate);
        await until((node) => conditionOf(node, 'Ready')?.status === 'True');
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'nu', uid: created.metadata!.uid! });

        // The server exits cleanly (143, SIGTERM) and Kubernetes keeps restarting it: no unclean stop, nothing for
        // catapult.recovery to repair (policy.ts remediationFor: `report`), so the lifecycle records it and alerts.
        await injectPodFault(kc, namespace, 'nu-0', {
          kind: 'crash-loop',
          container: 'server',
          exitCode: 143,
          restartInterval: '1s',
        });
        const degraded = await until((node) => conditionOf(node, 'Degraded')?.reason === reason);
        assert.equal(conditionOf(degraded, 'Ready')?.status, 'False');
        await eventually(() => Promise.resolve(received.length > 0 ? true : undefined), 'the first alert', 60_000);

        /** The podHealth signals reporting the problem, as the lifecycle's history holds them. */
        const problemReports = async (): Promise<number> => {
          // The newest replica's client: a stopped replica's connection is closed.
          const { client } = operators[operators.length - 1]!;
          const history = await client.workflow.getHandle(lifecycleId).fetchHistory();
          return (history.events ?? []).filter((event) => {
            const signaled = event.workflowExecutionSignaledEventAttributes;
            if (signaled?.signalName !== 'podHealth') return false;
            const data = signaled.input?.payloads?.[0]?.data;
            return data !== undefined && data !== null && Buffer.from(data).toString('utf8').includes(reason);
          }).length;
        };

        // An operator restart, one replica at a time: each fresh process's watcher lists the pod and reports the
        // problem again, knowing nothing of what the stopped one sent.
        let reports = await problemReports();
        for (const stopping of [first, second]) {
          await stopping.stop();
          const before = reports;
          await start();
          reports = await eventually(
            async () => {
              const now = await problemReports();
              return now > before ? now : undefined;
            },
            'the restarted replica reporting the problem again',
            60_000,
          );
        }

        // Quiet period after the last re-report: an alert it caused would have reached the webhook by now.
        await sleep(5000);
        const after = await until((node) => conditionOf(node, 'Degraded')?.reason === reason);
        assert.equal(conditionOf(after, 'Degraded')?.status, 'True', 'the problem is still there');
        assert.ok(reports >= 3, `the problem was reported ${reports} times (two replicas, then two restarts)`);
        const alerts = received.filter((alert) => alert.reason === reason);
        assert.equal(alerts.length, 1, `one alert for ${reason} after ${reports} reports: ${JSON.stringify(received)}`);
        assert.equal(received.length, 1, `no other alert: ${JSON.stringify(received)}`);
      } finally {
        await Promise.all(operators.map((operator) => operator.stop()));
      }
    });
  } finally {
    receiver.close();
  }
});
