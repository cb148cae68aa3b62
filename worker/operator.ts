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
import type { KubeClients } from '../k8s/client.js';
import type { RemediationPolicy } from '../workflows/remediation/policy.js';
import type { HealthState } from './health.js';
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
      };
  /** The watchers' and the alerts' log; unset: the console. */
  log?: (line: string) => void;
}

export interface StartedOperator {
  /** Resolves when the worker has stopped: after a signal (SIGINT, SIGTERM) or `stop()`. */
  running: Promise<void>;
  /** Stops the watchers, then the worker (it finishes its tasks), then the shared watches. */
  stop(): Promise<void>;
  /** For /healthz and /readyz: live unless the worker failed; ready while it runs and the watchers are synced. */
  health(): HealthState;
}

export async function startOperatorParts(settings: OperatorSettings): Promise<StartedOperator> {
  const { kubeConfig, kube, client, taskQueue, log } = settings;
  const watches = new OperatorWatches(kubeConfig, settings.watch ? settings.watch.namespace : undefined);
  const worker = await Worker.create({
    connection: settings.connection,
    namespace: settings.temporalNamespace,
    taskQueue,
    ...settings.workflows,
    activities: createNodeActivities({
      kube,
      watches,
      alerts: new WebhookAlerts(kube, settings.alertWebhookSecret, log),
      config: settings.activities,
    }),
    ...operatorWorkerTuning(settings.maxConcurrentTasks),
    ...(settings.maxCachedWorkflows ? { maxCachedWorkflows: settings.maxCachedWorkflows } : {}),
  });
  const running = worker.run();
  const watch = settings.watch;
  const watcher = watch
    ? new SymbolNodeWatcher({
        kubeConfig,
        client,
        taskQueue,
        namespace: watch.namespace,
        remediation: watch.remediation,
        ...(watch.retryFailedAfterMs ? { retryFailedAfterMs: watch.retryFailedAfterMs } : {}),
        ...(log ? { log } : {}),
      })
    : undefined;
  const podWatcher =
    watch && watcher
      ? new NodePodWatcher({
          kubeConfig,
          client,
          namespace: watch.namespace,
          lostNodeGraceMs: watch.lostNodeGraceMs,
          uidOf: (namespace, name) => watcher.uidOf(namespace, name),
          ...(log ? { log } : {}),
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
      const synced = (watcher?.synced() ?? true) && (podWatcher?.synced() ?? true);
      const ready = live && synced && state === 'RUNNING' && stopping === undefined;
      const watchers = watch ? (synced ? 'watchers synced' : 'watchers not synced (listing failed)') : 'no watchers';
      return { live, ready, detail: `worker ${state}${failed ? ` (${failed})` : ''}, ${watchers}` };
    },
    stop: () =>
      (stopping ??= (async () => {
        await podWatcher?.stop();
        await watcher?.stop();
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await watches.stop();
      })()),
  };
}
