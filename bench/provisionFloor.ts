/**
 * What a provisioning burst costs without Temporal (run on demand: `npm run bench:provision-floor [-- sizes]`).
 * The operator's own provisioning steps (the same activity functions, in the same order and with the same
 * bound of 64 at once) are called straight from this process for N SymbolNodes created at once; no workflow,
 * no watcher. Then the same N nodes' objects are created once more by plain POSTs of pre-built objects, the
 * least any client could send. Prints, for each: the wall time until every node is Provisioned (or created),
 * and the CPU seconds of each process of the stack meanwhile. bench/provision.ts measures the real operator;
 * the difference is what Temporal and the watcher add. Not a test: it asserts nothing.
 */
import * as k8s from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import { OperatorWatches } from '../activities/sharedWatch.js';
import { WebhookAlerts } from '../activities/alerts.js';
import { createNodeActivities } from '../activities/index.js';
import type { NodeRef } from '../activities/types.js';
import { makeKubeClients } from '../k8s/client.js';
import { installCustomResourceDefinitions } from '../k8s/install.js';
import { stackUp } from '../stack/stack.js';
import { testKubeConfig } from '../test/support/cluster.js';
import { testOperatorImage } from '../test/support/operator.js';
import { saiPackageZip } from '../test/support/paths.js';
import { createSymbolNode, saiPeerSpec } from '../test/support/symbolNodes.js';
import { describeCpu, forEachParallel, sizeArguments, stackCpuSeconds, withBenchNamespace } from './support.js';

const sizes = sizeArguments([1000]);
const concurrency = 64;

async function main(): Promise<void> {
  await stackUp(() => undefined);
  const kc = testKubeConfig();
  const kube = makeKubeClients(kc);
  await installCustomResourceDefinitions(kube);
  const watches = new OperatorWatches(kc);
  const activities = createNodeActivities({
    kube,
    watches,
    alerts: new WebhookAlerts(kube, undefined, () => undefined),
    config: { operatorImage: testOperatorImage, networkPackageOverrides: { sai: saiPackageZip } },
  });

  for (const size of sizes) {
    const names = Array.from({ length: size }, (_, i) => `floor-${i}`);
    // The operator's steps, without Temporal.
    const objects = await withBenchNamespace(kc, async (namespace) => {
      const cpuBefore = await stackCpuSeconds();
      const started = performance.now();
      const refs = new Map<string, NodeRef>();
      await forEachParallel(names, 32, async (name) => {
        const created = await createSymbolNode(kc, namespace, name, saiPeerSpec);
        refs.set(name, { namespace, name, uid: created.metadata!.uid! });
      });
      await forEachParallel(names, concurrency, async (name) => {
        const ref = refs.get(name)!;
        const { generation, spec } = await activities.readSymbolNode(ref);
        const [, identity, configuration] = await Promise.all([
          activities.reportNodeStatus(ref, {
            generation,
            conditions: [{ type: 'Progressing', status: 'True', reason: 'Provisioning', message: 'provisioning' }],
            event: { type: 'Normal', reason: 'Provisioning', message: 'provisioning' },
          }),
          activities.ensureNodeIdentity(ref, spec),
          activities.ensureNodeConfiguration(ref, spec),
        ]);
        await activities.applyNodeWorkloads(ref, spec, configuration, identity);
        await activities.reportNodeStatus(ref, {
          generation,
          conditions: [{ type: 'Provisioned', status: 'True', reason: 'ObjectsApplied', message: 'applied' }],
          fields: { mainPublicKey: identity.mainPublicKey, nodePublicKey: identity.nodePublicKey },
        });
      });
      const elapsed = (performance.now() - started) / 1000;
      console.log(
        `operator steps without Temporal, ${size} nodes: all Provisioned after ${elapsed.toFixed(1)} s; ` +
          describeCpu(cpuBefore, await stackCpuSeconds()),
      );
      // Keep what was applied, to replay it as plain creates below.
      const kinds = [
        kube.core.listNamespacedSecret({ namespace }),
        kube.core.listNamespacedConfigMap({ namespace }),
        kube.core.listNamespacedService({ namespace }),
        kube.apps.listNamespacedStatefulSet({ namespace }),
      ];
      return (await Promise.all(kinds)).flatMap((list, index) =>
        (list.items as k8s.KubernetesObject[])
          .filter((object) => object.metadata?.ownerReferences?.length)
          .map((object) => ({ ...object, kind: ['Secret', 'ConfigMap', 'Service', 'StatefulSet'][index] })),
      );
    });

    // The same objects again, as bare creates: the control plane's floor.
    await withBenchNamespace(kc, async (namespace) => {
      const cpuBefore = await stackCpuSeconds();
      const started = performance.now();
      await forEachParallel(objects, concurrency, async (object) => {
        const { name, labels, annotations } = object.metadata!;
        const body = { ...object, apiVersion: object.kind === 'StatefulSet' ? 'apps/v1' : 'v1' };
        body.metadata = { name, namespace, labels, annotations };
        if (object.kind === 'Service') delete (body as k8s.V1Service).spec?.clusterIPs;
        if (object.kind === 'Service' && (body as k8s.V1Service).spec?.clusterIP !== 'None')
          delete (body as k8s.V1Service).spec?.clusterIP;
        await kube.objects.create(body);
      });
      const elapsed = (performance.now() - started) / 1000;
      console.log(
        `the same ${objects.length} objects as plain creates, 64 at once: ${elapsed.toFixed(1)} s; ` +
          describeCpu(cpuBefore, await stackCpuSeconds()),
      );
    });
  }
  await watches.stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
