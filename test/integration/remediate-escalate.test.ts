import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { nodeLifecycleWorkflowId, resumeSignal } from '../../workflows/nodeLifecycle.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault, podFaultAnnotations } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec } from '../support/symbolNodes.js';
import { recoveryJobNameOf, recoveryJobPattern } from '../support/recoveryJobs.js';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('a recovery Job that keeps failing is retried, then the node is Degraded, one alert goes out and the operator waits for a person to resume', async () => {
  const received: { path: string; json: Record<string, unknown> }[] = [];
  const receiver = createServer((request, response) => {
    void body(request).then((text) => {
      received.push({ path: request.url ?? '', json: JSON.parse(text) as Record<string, unknown> });
      response.writeHead(200).end('ok');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const port = (receiver.address() as AddressInfo).port;
  try {
    await withNamespace('escalate', async (namespace, kc) => {
      const webhookSecret = { namespace, name: 'alert-webhook', key: 'url' };
      await withOperator(
        { namespace, alertWebhookSecret: webhookSecret, remediation: { recoveryJobAttempts: 2, backoffMs: 500 } },
        async ({ kube, client }) => {
          await kube.core.createNamespacedSecret({
            namespace,
            body: {
              metadata: { name: webhookSecret.name },
              stringData: { url: `http://127.0.0.1:${port}/hooks/secret-token` },
            },
          });
          // Every recovery Job pod of this node fails (exit 1), as catapult.recovery would on broken data.
          const created = await createSymbolNode(kc, namespace, 'theta', {
            ...saiPeerSpec,
            podAnnotations: podFaultAnnotations({ kind: 'job-failed', exitCode: 1 }),
          });
          const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
          const until = (predicate: (node: SymbolNode) => boolean, timeoutMs = 60_000) =>
            watchUntil<SymbolNode & k8s.KubernetesObject>(
              kc,
              path,
              { fieldSelector: 'metadata.name=theta' },
              predicate,
              timeoutMs,
            );
          await until((node) => conditionOf(node, 'Ready')?.status === 'True');

          await injectPodFault(kc, namespace, 'theta-0', {
            kind: 'crash-loop',
            container: 'server',
            exitCode: 253,
            restartInterval: '1s',
          });
          const escalated = await until((node) => conditionOf(node, 'Degraded')?.reason === 'RecoveryFailed', 90_000);
          const degraded = conditionOf(escalated, 'Degraded')!;
          assert.equal(degraded.status, 'True');
          assert.match(degraded.message, /failed 2 times/);
          assert.match(degraded.message, /exited with 1/, 'says how recovery failed');
          assert.match(degraded.message, /resume/, 'says how to resume');

          const jobs = await kube.batch.listNamespacedJob({ namespace });
          const failedJobs = jobs.items
            .filter((j) => j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True'))
            .map((j) => j.metadata?.name)
            .sort();
          const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'theta', uid: created.metadata!.uid! });
          const attempts = [1, 2].map((attempt) => recoveryJobNameOf(client, `${lifecycleId}/remediate/1`, attempt));
          assert.deepEqual(failedJobs, (await Promise.all(attempts)).sort(), 'two attempts, both failed');
          const sts = await kube.apps.readNamespacedStatefulSet({ namespace, name: 'theta' });
          assert.equal(sts.spec?.replicas, 0, 'the node stays stopped: starting it without recovery would crash again');

          // No thrashing: nothing more happens by itself.
          await sleep(4000);
          assert.equal((await kube.batch.listNamespacedJob({ namespace })).items.length, 2, 'no further Jobs');
          await assert.rejects(
            client.workflow.getHandle(`${lifecycleId}/remediate/2`).describe(),
            WorkflowNotFoundError,
          );
          const alerts = received.filter((r) => r.json.reason === 'RecoveryFailed');
          assert.equal(alerts.length, 1, `one alert: ${JSON.stringify(received)}`);
          assert.equal(alerts[0]!.path, '/hooks/secret-token');
          assert.match(String(alerts[0]!.json.text), /theta/);
          const warnings = (await nodeEvents(kc, namespace, 'theta')).filter((e) => e.reason === 'RecoveryFailed');
          assert.ok(warnings.length >= 2, 'an Event per failed attempt and the escalation');

          // A person resumes: the operator tries again (the next remediation run).
          await client.workflow.getHandle(lifecycleId).signal(resumeSignal, { by: 'test' });
          await watchUntil<k8s.V1Job>(
            kc,
            `/apis/batch/v1/namespaces/${namespace}/jobs`,
            {},
            (job) => recoveryJobPattern('theta', 2, 1).test(job.metadata?.name ?? ''),
            60_000,
          );
          const reasons = (await nodeEvents(kc, namespace, 'theta')).map((e) => e.reason);
          assert.ok(reasons.includes('Resumed'), reasons.join(', '));
        },
      );
    });
  } finally {
    receiver.close();
  }
});
