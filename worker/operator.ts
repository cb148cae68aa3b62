/**
 * The operator's parts, wired once: the Temporal worker with the node workflows and their activities, the
 * SymbolNode watcher and the pod watcher. `npm start` (worker/main.ts) and the tests' operator both run it.
 */
import type * as k8s from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { WebhookAlerts, type SecretKeyLocation } from '../activities/alerts.js';
import { createNodeActivities, type ActivityDependencies } from '../activities/index.js';
import { OperatorWatches } from '../activities/sharedWatch.js';
import { KubernetesCache, type CacheObserver, type InformerHealth } from '../k8s/cache.js';
import type { KubeClients } from '../k8s/client.js';
import type { RemediationPolicy } from '../workflows/remediation/policy.js';
import type { HealthState } from './health.js';
import { createLogger, lineLogger, type Logger } from './log.js';
import { operatorMetrics, setNodesByPhaseSource } from './metrics.js';
import { NodePodWatcher } from './podWatcher.js';
import { SymbolNodeWatcher } from './watcher.js';
import { operatorWorkerTuning } from './workerOptions.js';

export interface OperatorSettings {
  kubeConfig: k8s.KubeConfig;
  kube: KubeClients;
  /** The worker's connection; `client` (the watchers') may use another. */
  connection: NativeConnection;
  client: Client;
  temporalNamespace: string;
  taskQueue: string;
  /** Where the workflows come from: their source, or a bundle made once (tests). */
  workflows: Pick<WorkerOptions, 'workflowsPath'> | Pick<WorkerOptions, 'workflowBundle'>;
  maxConcurrentTasks: number;
  maxCachedWorkflows?: number;
  activities: ActivityDependencies['config'];
  alertWebhookSecret: SecretKeyLocation | undefined;
  /** The watchers' settings; false runs the worker alone. */
  watch:
    | false
    | {
        /** Unset: all namespaces. */
        namespace: string | undefined;
        lostNodeGraceMs: number;
        remediation?: Partial<RemediationPolicy>;
        retryFailedAfterMs?: number;
        /** Every node's lifecycle is re-asserted this often (default 5 min). */
        resyncMs?: number;
        /** Every pod is compared with its lifecycle's record this often (default 60 s). */
        podResyncMs?: number;
      };
  /** Also told of informer restarts and health changes (the process's metrics are always). */
  cacheObserver?: CacheObserver;
  /** The log of the cache, the watchers and the alerts (JSON events); unset: one made from `log`. */
  logger?: Logger;
  /** Where the JSON lines go when no `logger` is given (tests keep them in a file); unset: stdout. */
  log?: (line: string) => void;
}

export interface StartedOperator {
  /** Resolves when the worker has stopped: after a signal (SIGINT, SIGTERM) or `stop()`. */
  running: Promise<void>;
  /** Stops the watchers, then the worker (it finishes its tasks), then the shared watches. */
  stop(): Promise<void>;
  /** For /healthz and /readyz: live unless the worker failed; ready while it runs and the informers are healthy. */
  health(): HealthState;
  /** Each started informer's health: synced, restarts, last error. */
  informers(): InformerHealth[];
  /** The Kubernetes cache the watchers and activities share. */
  cache: KubernetesCache;
  /** SymbolNodes by status.phase, from the cache (for the nodesByPhase gauge). */
  nodesByPhase(): Record<string, number>;
}

export async function startOperatorParts(settings: OperatorSettings): Promise<StartedOperator> {
  const { kubeConfig, kube, client, taskQueue } = settings;
  const logger = settings.logger ?? createLogger({ ...(settings.log ? { sink: settings.log } : {}) });
  const cache = new KubernetesCache({
    kubeConfig,
    namespace: settings.watch ? settings.watch.namespace : undefined,
    observer: {
      restarted: (informer, delayMs, error) => {
        logger.warn('informer failed; restarting', { component: 'cache', informer, delayMs, error });
        operatorMetrics.informerRestarts.inc({ informer });
        settings.cacheObserver?.restarted?.(informer, delayMs, error);
      },
      health: (informer, healthy) => {
        operatorMetrics.informerHealthy.set({ informer }, healthy ? 1 : 0);
        settings.cacheObserver?.health?.(informer, healthy);
      },
    },
  });
  const nodesByPhase = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const node of cache.symbolNodes.list()) {
      const phase = node.status?.phase ?? 'Pending';
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    return counts;
  };
  if (settings.watch) setNodesByPhaseSource(nodesByPhase);
  const watches = new OperatorWatches(cache);
  const worker = await Worker.create({
    connection: settings.connection,
    namespace: settings.temporalNamespace,
    taskQueue,
    ...settings.workflows,
    activities: createNodeActivities({
      kube,
      watches,
      alerts: new WebhookAlerts(
        kube,
        settings.alertWebhookSecret,
        lineLogger(logger.child({ component: 'alerts' }), 'warn'),
      ),
      config: settings.activities,
    }),
    ...operatorWorkerTuning(settings.maxConcurrentTasks),
    ...(settings.maxCachedWorkflows ? { maxCachedWorkflows: settings.maxCachedWorkflows } : {}),
  });
  const running = worker.run();
  const watch = settings.watch;
  const watcher = watch
    ? new SymbolNodeWatcher({
        symbolNodes: cache.symbolNodes,
        client,
        taskQueue,
        remediation: watch.remediation,
        ...(watch.resyncMs ? { resyncMs: watch.resyncMs } : {}),
        ...(watch.retryFailedAfterMs ? { retryFailedAfterMs: watch.retryFailedAfterMs } : {}),
        logger: logger.child({ component: 'watcher' }),
      })
    : undefined;
  const podWatcher =
    watch && watcher
      ? new NodePodWatcher({
          pods: cache.nodePods,
          kubernetesNodes: cache.kubernetesNodes,
          client,
          lostNodeGraceMs: watch.lostNodeGraceMs,
          uidOf: (namespace, name) => watcher.uidOf(namespace, name),
          reassert: (namespace, name) => watcher.reassert(namespace, name),
          ...(watch.podResyncMs ? { resyncMs: watch.podResyncMs } : {}),
          logger: logger.child({ component: 'pods' }),
        })
      : undefined;
  let failed: string | undefined;
  running.catch((error: unknown) => (failed = error instanceof Error ? error.message : String(error)));
  await watcher?.start();
  await podWatcher?.start();
  let stopping: Promise<void> | undefined;
  return {
    running,
    health: () => {
      const state = worker.getState();
      const live = state !== 'FAILED' && failed === undefined;
      const informers = cache.stats();
      const synced = (watcher?.synced() ?? true) && (podWatcher?.synced() ?? true);
      const healthy = informers.every((informer) => informer.healthy);
      const ready = live && synced && healthy && state === 'RUNNING' && stopping === undefined;
      return { live, ready, detail: `worker ${state}${failed ? ` (${failed})` : ''}, ${describeInformers(informers)}` };
    },
    informers: () => cache.stats(),
    cache,
    nodesByPhase,
    stop: () =>
      (stopping ??= (async () => {
        await podWatcher?.stop();
        await watcher?.stop();
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await watches.stop();
        await cache.stop();
      })()),
  };
}

/** For the probe's answer: e.g. `informers synced (symbolnodes, pods, nodes)` or what is wrong with each. */
export function describeInformers(informers: InformerHealth[]): string {
  if (informers.length === 0) return 'no informers';
  const unwell = informers.filter((informer) => !informer.healthy);
  if (unwell.length === 0) return `informers synced (${informers.map((i) => i.informer).join(', ')})`;
  return `informers not healthy: ${unwell
    .map(
      (i) =>
        `${i.informer} ${i.synced ? 'synced' : 'not synced'}, ${i.restarts} restarts${i.lastError ? `, last error: ${i.lastError}` : ''}`,
    )
    .join('; ')}`;
}
