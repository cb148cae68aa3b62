/**
 * Provisioning benchmark (run on demand: `npm run bench:provision [-- sizes]`). Prints:
 * - latency from SymbolNode creation to Provisioned=True (p50, p99) for nodes created one at a time;
 * - wall time until every node of a burst of N created at once is Provisioned (default 100 and 1000);
 * - Kubernetes API requests the operator makes per provisioned node;
 * - the operator's resident memory (it runs in this process).
 * Targets (issue #3): p50 ≤ 250 ms, p99 ≤ 1 s, 1,000 nodes ≤ 60 s on 2 cores. Not a test: it asserts nothing.
 */
import * as k8s from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../k8s/symbolNode.js';
import { stackUp } from '../stack/stack.js';
import { testKubeConfig } from '../test/support/cluster.js';
import { startOperator } from '../test/support/operator.js';
import { createSymbolNode, saiPeerSpec } from '../test/support/symbolNodes.js';
import {
  forEachParallel,
  percentile,
  RssSampler,
  sizeArguments,
  terminateWorkflows,
  waitUntil,
  watchCollection,
  withBenchNamespace,
} from './support.js';

const sequentialCount = 30;
const burstSizes = sizeArguments([100, 1000]);

let requests = 0;
function instrumentedKubeConfig(): k8s.KubeConfig {
  const kc = testKubeConfig();
  const apply = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    requests++;
    return apply(context);
  };
  return kc;
}

const rss = new RssSampler();

/** Resolves with the time each named node first showed Provisioned=True, watched (not polled). */
function provisionedTimes(
  kc: k8s.KubeConfig,
  namespace: string,
): { times: Map<string, number>; stop: () => void; ready: Promise<void> } {
  const times = new Map<string, number>();
  const watch = watchCollection<SymbolNode>(
    kc,
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    {},
    (node) => {
      const name = node.metadata?.name;
      if (
        name &&
        !times.has(name) &&
        node.status?.conditions?.some((c) => c.type === 'Provisioned' && c.status === 'True')
      ) {
        times.set(name, performance.now());
      }
    },
  );
  return { times, stop: watch.stop, ready: watch.ready };
}

async function main(): Promise<void> {
  await stackUp(() => undefined);
  const kc = instrumentedKubeConfig();
  const userKc = testKubeConfig();

  // Sequential: one node at a time, end to end.
  await withBenchNamespace(userKc, async (namespace) => {
    const operator = await startOperator({ namespace, kubeConfig: kc });
    const watch = provisionedTimes(userKc, namespace);
    await watch.ready;
    const latencies: number[] = [];
    requests = 0;
    try {
      for (let i = 0; i < sequentialCount; i++) {
        const name = `seq-${i}`;
        const started = performance.now();
        await createSymbolNode(userKc, namespace, name, saiPeerSpec);
        if (!(await waitUntil(() => watch.times.has(name), 30_000)))
          throw new Error(`${name} was not provisioned within 30 s`);
        latencies.push(watch.times.get(name)! - started);
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `sequential: ${sequentialCount} nodes, creation → Provisioned p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`,
      );
      console.log(
        `  API requests by the operator: ${(requests / sequentialCount).toFixed(1)} per node (until Provisioned; readiness polling continues after)`,
      );
    } finally {
      watch.stop();
      await terminateWorkflows(operator.client, namespace);
      await operator.stop();
    }
  });

  for (const size of burstSizes) {
    await withBenchNamespace(userKc, async (namespace) => {
      const operator = await startOperator({ namespace, kubeConfig: kc, maxConcurrent: 400 });
      const watch = provisionedTimes(userKc, namespace);
      await watch.ready;
      requests = 0;
      const started = performance.now();
      try {
        const names = Array.from({ length: size }, (_, i) => `burst-${i}`);
        await forEachParallel(names, 32, async (name) => {
          await createSymbolNode(userKc, namespace, name, saiPeerSpec);
        });
        const created = performance.now() - started;
        const done = await waitUntil(() => watch.times.size >= size, 600_000);
        const elapsed = performance.now() - started;
        const latencies = [...watch.times.values()].map((t) => t - started).sort((a, b) => a - b);
        console.log(
          `burst of ${size}: ${done ? 'all' : `only ${watch.times.size}`} Provisioned after ${(elapsed / 1000).toFixed(1)} s ` +
            `(creates took ${(created / 1000).toFixed(1)} s; half done at ${(percentile(latencies, 50) / 1000).toFixed(1)} s); ` +
            `${(requests / size).toFixed(1)} API requests per node`,
        );
      } finally {
        watch.stop();
        await terminateWorkflows(operator.client, namespace);
        await operator.stop();
      }
    });
  }
  rss.stop();
  console.log(
    `operator process peak RSS: ${rss.peakMiB().toFixed(0)} MiB (worker, watcher, activities and this harness in one process)`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
