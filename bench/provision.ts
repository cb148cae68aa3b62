/**
 * Provisioning benchmark (run on demand: `npm run bench:provision [-- sizes]`). Prints:
 * - latency from SymbolNode creation to Provisioned=True (p50, p99) for nodes created one at a time, isolated
 *   (the next once the last is Ready) and back to back (the next once the last is Provisioned);
 * - wall time until every node of a burst of N created at once is Provisioned (default 100 and 1000), and the
 *   CPU seconds each process of the stack used meanwhile;
 * - Kubernetes API requests the operator makes per provisioned node;
 * - the operator's resident memory (it runs in this process).
 * Targets (issue #3): p50 ≤ 250 ms, p99 ≤ 1 s, 1,000 nodes ≤ 60 s on 2 cores. bench/provisionFloor.ts measures
 * what the same burst costs without Temporal, and as bare creates. Not a test: it asserts nothing.
 */
import * as k8s from '@kubernetes/client-node';
import { performance } from 'node:perf_hooks';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../k8s/symbolNode.js';
import { stackUp } from '../stack/stack.js';
import { testKubeConfig } from '../test/support/cluster.js';
import { startOperator } from '../test/support/operator.js';
import { createSymbolNode, saiPeerSpec } from '../test/support/symbolNodes.js';
import {
  describeCpu,
  forEachParallel,
  percentile,
  RssSampler,
  sizeArguments,
  stackCpuSeconds,
  terminateWorkflows,
  waitUntil,
  watchCollection,
  type CollectionWatch,
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

/** The time each named node first showed Provisioned=True, and Ready=True, watched (not polled). */
function nodeConditionTimes(
  kc: k8s.KubeConfig,
  namespace: string,
): { provisionedAt: Map<string, number>; readyAt: Map<string, number> } & CollectionWatch {
  const times = { provisionedAt: new Map<string, number>(), readyAt: new Map<string, number>() };
  const watch = watchCollection<SymbolNode>(
    kc,
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    {},
    (node) => {
      const name = node.metadata?.name;
      if (!name) return;
      for (const [type, seen] of [
        ['Provisioned', times.provisionedAt],
        ['Ready', times.readyAt],
      ] as const) {
        if (!seen.has(name) && node.status?.conditions?.some((c) => c.type === type && c.status === 'True'))
          seen.set(name, performance.now());
      }
    },
  );
  return { ...times, ...watch };
}

async function main(): Promise<void> {
  await stackUp(() => undefined);
  const kc = instrumentedKubeConfig();
  const userKc = testKubeConfig();

  // One node at a time, end to end: isolated (each created once the one before is Ready, so nothing else runs),
  // then back to back (each created as soon as the one before is Provisioned, while that one's pod still starts).
  for (const mode of ['isolated', 'back to back'] as const) {
    await withBenchNamespace(userKc, async (namespace) => {
      const operator = await startOperator({ namespace, kubeConfig: kc });
      const watch = nodeConditionTimes(userKc, namespace);
      await watch.ready;
      const latencies: number[] = [];
      try {
        // The first node after a start is measured apart: it warms the worker's caches and the servers' code paths.
        for (let i = -1; i < sequentialCount; i++) {
          const name = i < 0 ? 'warm-up' : `seq-${i}`;
          if (i === 0) requests = 0;
          const started = performance.now();
          await createSymbolNode(userKc, namespace, name, saiPeerSpec);
          if (!(await waitUntil(() => watch.provisionedAt.has(name), 30_000)))
            throw new Error(`${name} was not provisioned within 30 s`);
          latencies.push(watch.provisionedAt.get(name)! - started);
          if (mode === 'isolated' && !(await waitUntil(() => watch.readyAt.has(name), 30_000)))
            throw new Error(`${name} was not Ready within 30 s`);
        }
        const first = latencies.shift()!;
        const sorted = [...latencies].sort((a, b) => a - b);
        console.log(
          `one at a time, ${mode}: ${sequentialCount} nodes, creation → Provisioned p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms (first node after the start: ${first.toFixed(0)} ms)`,
        );
        if (mode === 'isolated') {
          console.log(
            `  API requests by the operator: ${(requests / sequentialCount).toFixed(1)} per node, until Ready`,
          );
        }
      } finally {
        watch.stop();
        await terminateWorkflows(operator.client, namespace);
        await operator.stop();
      }
    });
  }

  for (const size of burstSizes) {
    await withBenchNamespace(userKc, async (namespace) => {
      const operator = await startOperator({ namespace, kubeConfig: kc, maxConcurrent: 400 });
      const watch = nodeConditionTimes(userKc, namespace);
      await watch.ready;
      requests = 0;
      const cpuBefore = await stackCpuSeconds();
      const started = performance.now();
      try {
        const names = Array.from({ length: size }, (_, i) => `burst-${i}`);
        await forEachParallel(names, 32, async (name) => {
          await createSymbolNode(userKc, namespace, name, saiPeerSpec);
        });
        const created = performance.now() - started;
        const done = await waitUntil(() => watch.provisionedAt.size >= size, 600_000);
        const elapsed = performance.now() - started;
        const latencies = [...watch.provisionedAt.values()].map((t) => t - started).sort((a, b) => a - b);
        console.log(
          `burst of ${size}: ${done ? 'all' : `only ${watch.provisionedAt.size}`} Provisioned after ${(elapsed / 1000).toFixed(1)} s ` +
            `(creates took ${(created / 1000).toFixed(1)} s; half done at ${(percentile(latencies, 50) / 1000).toFixed(1)} s); ` +
            `${(requests / size).toFixed(1)} API requests per node`,
        );
        console.log(`  CPU meanwhile, ${describeCpu(cpuBefore, await stackCpuSeconds())}`);
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
