import type * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';
import { recoveryJobNameOf, recoveryJobPattern } from '../support/recoveryJobs.js';

const nodePods = 'app.kubernetes.io/instance=zeta,app.kubernetes.io/component=node';

test('a crash loop with a stale lock is recorded, then repaired: node stopped, catapult.recovery Job on its volume, started again only after the Job succeeded', async () => {
  await withNamespace('remediate', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube, client }) => {
      const created = await createSymbolNode(kc, namespace, 'zeta', saiPeerSpec);
      await waitForCondition(kc, namespace, 'zeta', 'Ready', 'True');
      const brokenPod = await kube.core.readNamespacedPod({ namespace, name: 'zeta-0' });

      // What the cluster looks like at the moment the recovery Job appears.
      const jobSeen = watchUntil<k8s.V1Job>(
        kc,
        `/apis/batch/v1/namespaces/${namespace}/jobs`,
        {},
        () => true,
        90_000,
      ).then(async (job) => ({
        job,
        statefulSet: await kube.apps.readNamespacedStatefulSet({ namespace, name: 'zeta' }),
        pods: await kube.core.listNamespacedPod({ namespace, labelSelector: nodePods }),
      }));
      // The Job's state at the moment the StatefulSet is scaled up again.
      const restarted = jobSeen.then(async ({ job }) => {
        await watchUntil<k8s.V1StatefulSet>(
          kc,
          `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
          { fieldSelector: 'metadata.name=zeta' },
          (sts) => sts.spec?.replicas === 1,
          90_000,
        );
        return kube.batch.readNamespacedJob({ namespace, name: job.metadata!.name! });
      });

      // catapult exits -3 (253) when a stale server.lock remains.
      await injectPodFault(kc, namespace, 'zeta-0', {
        kind: 'crash-loop',
        container: 'server',
        exitCode: 253,
        restartInterval: '1s',
      });
      const degraded = await waitForCondition(kc, namespace, 'zeta', 'Degraded', 'True');
      const condition = conditionOf(degraded, 'Degraded');
      assert.equal(condition?.reason, 'CrashLoopBackOff', `reason ${condition?.reason}: ${condition?.message}`);
      assert.match(condition?.message ?? '', /server\.lock/, 'the message names the stale lock');
      assert.equal(conditionOf(degraded, 'Ready')?.status, 'False');

      const { job, statefulSet, pods } = await jobSeen;
      assert.match(job.metadata?.name ?? '', recoveryJobPattern('zeta', 1, 1));
      assert.equal(statefulSet.spec?.replicas, 0, 'the node was scaled down before recovery');
      assert.deepEqual(
        pods.items.map((p) => p.metadata?.name),
        [],
        'no node pod holds the volume while recovery runs',
      );
      const podSpec = job.spec!.template.spec!;
      const recovery = podSpec.containers[0]!;
      assert.equal(recovery.image, saiPeerSpec.image, 'the same image as the server');
      assert.match(recovery.command!.join(' '), /catapult\.recovery \/userconfig/);
      const volume = (name: string) => podSpec.volumes!.find((v) => v.name === name);
      assert.equal(volume('data')?.persistentVolumeClaim?.claimName, 'data-zeta-0', "the node's own data volume");
      assert.equal(volume('resources')?.configMap?.name, 'zeta-resources', "the node's own configuration");
      assert.equal(volume('certificates')?.secret?.secretName, 'zeta-certificates');
      const mounts = Object.fromEntries(recovery.volumeMounts!.map((m) => [m.mountPath, m.subPath ?? m.name]));
      assert.equal(mounts['/data'], 'data');
      assert.equal(mounts['/userconfig/resources'], 'resources');
      assert.equal(job.spec?.backoffLimit, 0, 'the workflow, not the Job, retries');
      assert.equal(job.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid, 'owned by the SymbolNode');

      const jobAtRestart = await restarted;
      assert.ok(
        jobAtRestart.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'),
        `the node was started only after recovery succeeded; Job status then: ${JSON.stringify(jobAtRestart.status)}`,
      );

      const ready = await waitForCondition(kc, namespace, 'zeta', 'Ready', 'True', 90_000);
      assert.equal(conditionOf(ready, 'Degraded')?.status, 'False');
      const pod = await kube.core.readNamespacedPod({ namespace, name: 'zeta-0' });
      assert.notEqual(pod.metadata?.uid, brokenPod.metadata?.uid, 'a new pod');

      const reasons = (await nodeEvents(kc, namespace, 'zeta')).map((e) => e.reason);
      for (const reason of ['CrashLoopBackOff', 'RemediationStarted', 'RecoveryStarted', 'Recovered']) {
        assert.ok(reasons.includes(reason), `Event ${reason} among ${reasons.join(', ')}`);
      }

      const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'zeta', uid: created.metadata!.uid! });
      const outcome = (await client.workflow.getHandle(`${lifecycleId}/remediate/1`).result()) as RemediationOutcome;
      const jobName = await recoveryJobNameOf(client, `${lifecycleId}/remediate/1`);
      assert.deepEqual(outcome, { outcome: 'Recovered', jobs: [jobName] });
      const jobs = await kube.batch.listNamespacedJob({ namespace });
      assert.deepEqual(
        jobs.items.map((j) => j.metadata?.name),
        [jobName],
        'one recovery, not one per report',
      );
    });
  });
});
