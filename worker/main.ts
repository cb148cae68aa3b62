/**
 * The operator process: a Temporal worker running the node workflows and their activities, plus
 * the watcher that turns SymbolNode changes into workflow signals, and the /healthz and /readyz
 * endpoints for its Deployment. `node dist/worker/main.js` in the image; `npm start` (worker/dev.ts)
 * runs the same function on the local stack.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadKubeConfig, makeKubeClients } from '../k8s/client.js';
import { installCustomResourceDefinitions } from '../k8s/install.js';
import { observeKubernetesRequests } from '../k8s/requestObserver.js';
import { loadOperatorConfig } from './config.js';
import { startHealthServer } from './health.js';
import { createLogger, logLevelFromEnv, type Logger } from './log.js';
import { recordKubernetesRequest, renderMetrics } from './metrics.js';
import { startOperatorParts, type StartedOperator } from './operator.js';
import { installTemporalRuntime } from './telemetry.js';
import { connectWhenReachable, describeTemporalConnection, temporalConnectOptions } from './temporalConnection.js';

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/**
 * The workflow interceptor module that counts workflow runs started and failed by action (workflows/metrics.ts);
 * every bundle of the operator's workflows should list it in `workflowInterceptorModules`.
 */
export const workflowMetricsModule = fileURLToPath(new URL(`../workflows/metrics${extension}`, import.meta.url));

/**
 * The workflow bundle `npm run build` made (dist/workflow-bundle.js beside dist/worker/), so the image
 * needs no webpack run at start; from source (tsx), the workflows are bundled at start, with the metrics
 * interceptor (a bundle given to the worker ignores its interceptor options).
 */
export async function workflowSource(
  logger: Logger,
): Promise<Pick<WorkerOptions, 'workflowsPath'> | Pick<WorkerOptions, 'workflowBundle'>> {
  const bundle = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  if (existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  const log = logger.child({ source: 'bundler' });
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL(`../workflows/index${extension}`, import.meta.url)),
    workflowInterceptorModules: [workflowMetricsModule],
    logger: {
      trace() {},
      debug() {},
      info() {},
      log() {},
      warn: (message, meta) => log.warn(message, meta),
      error: (message, meta) => log.error(message, meta),
    },
  });
  return { workflowBundle: { code } };
}

export async function runOperator(logger: Logger = createLogger({ level: logLevelFromEnv() })): Promise<void> {
  const config = loadOperatorConfig();
  // Before the first connection creates the runtime with its defaults (console text, no metrics).
  const telemetry = await installTemporalRuntime(logger, config.temporalLogLevel);
  let operator: StartedOperator | undefined;
  let starting = 'starting';
  const health = await startHealthServer({
    port: config.healthPort,
    address: config.healthAddress,
    state: () => operator?.health() ?? { live: true, ready: false, detail: starting },
    metrics: () => renderMetrics({ temporalMetricsUrl: telemetry.metricsUrl }),
  });
  // Until the worker runs, a stop signal ends the start (Temporal's runtime takes the signals over once it exists).
  const stopStart = new AbortController();
  const abortStart = (): void => stopStart.abort(new Error('stopped by a signal while starting'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, abortStart);
  try {
    const kubeConfig = loadKubeConfig(config.kubeconfig);
    observeKubernetesRequests(kubeConfig, recordKubernetesRequest);
    const kube = makeKubeClients(kubeConfig);
    if (config.installCrds) await installCustomResourceDefinitions(kube);

    const temporal = await temporalConnectOptions(config);
    const where = describeTemporalConnection(config);
    const wait = {
      signal: stopStart.signal,
      onRetry: (error: string, _attempt: number, delayMs: number) => {
        starting = `waiting for Temporal at ${where}: ${error}`;
        logger.warn('Temporal not reachable; retrying', { temporal: where, error, retryInSeconds: delayMs / 1000 });
      },
    };
    const connection = await connectWhenReachable(() => NativeConnection.connect(temporal), wait);
    const clientConnection = await connectWhenReachable(() => Connection.connect(temporal), wait);
    try {
      operator = await startOperatorParts({
        kubeConfig,
        kube,
        connection,
        client: new Client({ connection: clientConnection, namespace: config.temporalNamespace }),
        temporalNamespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
        workflows: await workflowSource(logger),
        maxConcurrentTasks: config.maxConcurrentTasks,
        maxCachedWorkflows: config.maxCachedWorkflows,
        activities: config,
        alertWebhookSecret: config.alertWebhookSecret,
        watch: {
          namespace: config.watchNamespace,
          lostNodeGraceMs: config.lostNodeGraceMs,
          remediation: config.remediation,
          resyncMs: config.resyncSeconds * 1000,
          podResyncMs: config.podResyncSeconds * 1000,
        },
        logger,
      });
      logger.info(`watching SymbolNodes in ${config.watchNamespace ?? 'all namespaces'}`, {
        taskQueue: config.taskQueue,
        temporal: where,
        health: `${config.healthAddress}:${health.port}`,
        metrics: telemetry.metricsUrl ? 'operator and Temporal SDK' : 'operator only',
      });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, abortStart);
      if (stopStart.signal.aborted) operator.stop().catch(() => undefined);
      try {
        await operator.running; // returns after SIGINT/SIGTERM, once in-flight tasks are done
      } finally {
        await operator.stop();
      }
    } finally {
      await clientConnection.close();
      await connection.close();
    }
  } catch (error) {
    if (!stopStart.signal.aborted) throw error;
    logger.info('stopped by a signal while starting');
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, abortStart);
    await health.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let logger: Logger;
  try {
    logger = createLogger({ level: logLevelFromEnv() });
  } catch (error) {
    logger = createLogger();
    logger.error('operator failed to start', { error });
    process.exit(1);
  }
  runOperator(logger).catch((error: unknown) => {
    logger.error('operator failed', { error });
    process.exit(1);
  });
}
