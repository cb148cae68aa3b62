/** Helpers shared by the benchmarks in this folder. */
import * as k8s from '@kubernetes/client-node';
import { readIfExists } from '../k8s/client.js';
import type { Client } from '@temporalio/client';
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { uniqueName } from '../test/support/cluster.js';

/** Positive integer arguments (sizes), or `fallback` when none are given. */
export function sizeArguments(fallback: number[]): number[] {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  return sizes.length > 0 ? sizes : fallback;
}

/** Nearest-rank percentile of an ascending array; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Peak resident memory of this process (operator and harness), sampled every 100 ms. */
export class RssSampler {
  private peakBytes = 0;
  private readonly timer = setInterval(() => this.sample(), 100);

  private sample(): void {
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage().rss);
  }

  /** Peak since the start or the last {@link reset}, in MiB. */
  peakMiB(): number {
    this.sample();
    return this.peakBytes / 1024 / 1024;
  }

  reset(): void {
    this.peakBytes = 0;
    this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface CollectionWatch {
  /** Resolves once the first watch request is established. */
  ready: Promise<void>;
  stop: () => void;
}

/**
 * Calls `onObject` for every event of a watched collection (a real watch, not polling). A watch the API
 * server ends is started again, which replays the current objects as ADDED: `onObject` must be idempotent.
 */
export function watchCollection<T>(
  kc: k8s.KubeConfig,
  path: string,
  query: Record<string, string>,
  onObject: (object: T, type: string) => void,
): CollectionWatch {
  const watch = new k8s.Watch(kc);
  let request: AbortController | undefined;
  let stopped = false;
  const start = (): Promise<void> =>
    watch
      .watch(
        path,
        query,
        (type, object: T) => onObject(object, type),
        () => {
          if (!stopped) setTimeout(() => void start().catch(() => undefined), 200);
        },
      )
      .then((controller) => {
        request = controller;
        if (stopped) controller.abort();
      });
  return {
    ready: start(),
    stop: () => {
      stopped = true;
      request?.abort();
    },
  };
}

/** The benchmark's lifecycle workflows would otherwise wait forever for signals from a stopped watcher. */
export async function terminateWorkflows(client: Client, namespace: string): Promise<void> {
  const handles: Promise<unknown>[] = [];
  for await (const execution of client.workflow.list({
    query: `KubernetesNamespace = '${namespace}' AND ExecutionStatus = 'Running'`,
  })) {
    handles.push(
      client.workflow
        .getHandle(execution.workflowId)
        .terminate('benchmark finished')
        .catch(() => undefined),
    );
  }
  await Promise.all(handles);
}

/** A fresh namespace for `body`, deleted afterwards. */
export async function withBenchNamespace<T>(kc: k8s.KubeConfig, body: (namespace: string) => Promise<T>): Promise<T> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = uniqueName('bench');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  for (;;) {
    const accounts = await core.listNamespacedServiceAccount({ namespace });
    if (accounts.items.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await body(namespace);
  } finally {
    // Deleting hundreds of nodes' objects keeps the control plane busy for minutes: the next measurement
    // starts only once it is done, or it would measure the garbage collector too.
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const deadline = Date.now() + 15 * 60_000;
    while (Date.now() < deadline && (await readIfExists(() => core.readNamespace({ name: namespace })))) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Runs `task` for every item, at most `parallel` at a time. */
export async function forEachParallel<T>(
  items: T[],
  parallel: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
    }),
  );
}

/** CPU seconds used so far by each process of the stack and by this process (Linux /proc; ticks of 1/100 s). */
export async function stackCpuSeconds(): Promise<Map<string, number>> {
  const components = ['kube-apiserver', 'kube-controller', 'kube-scheduler', 'etcd', 'kwok-controller', 'temporal'];
  const totals = new Map<string, number>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = Number(pid) === process.pid ? 'operator' : components.find((c) => comm === c);
    if (!name) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
    totals.set(name, (totals.get(name) ?? 0) + seconds);
  }
  return totals;
}

/** `after - before` per process, largest first, as one line: `kube-apiserver 92.0 s, operator 61.2 s, …`. */
export function describeCpu(before: Map<string, number>, after: Map<string, number>): string {
  const used = [...after].map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)] as const);
  const total = used.reduce((sum, [, seconds]) => sum + seconds, 0);
  return (
    `${total.toFixed(0)} CPU-s: ` +
    used
      .sort((a, b) => b[1] - a[1])
      .map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`)
      .join(', ')
  );
}
