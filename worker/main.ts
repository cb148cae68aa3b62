/**
 * The operator process: a Temporal worker running the node workflows and their activities, plus
 * the watcher that turns SymbolNode changes into workflow signals, and the /healthz and /readyz
 * endpoints for its Deployment. `node dist/worker/main.js` in the image; `npm start` (worker/dev.ts)
 * runs the same function on the local stack.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadKubeConfig, makeKubeClients } from '../k8s/client.js';
import { installCustomResourceDefinitions } from '../k8s/install.js';
import { loadOperatorConfig } from './config.js';
import { startHealthServer } from './health.js';
import { startOperatorParts, type StartedOperator } from './operator.js';
import { connectWhenReachable, describeTemporalConnection, temporalConnectOptions } from './temporalConnection.js';

/**
 * The workflow bundle `npm run build` made (dist/workflow-bundle.js beside dist/worker/), so the image
 * needs no webpack run at start; from source (tsx), the workflows are bundled at start as before.
 */
export function workflowSource(): Pick<WorkerOptions, 'workflowsPath'> | Pick<WorkerOptions, 'workflowBundle'> {
  const bundle = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  if (existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return { workflowsPath: fileURLToPath(new URL(`../workflows/index${extension}`, import.meta.url)) };
}

export async function runOperator(): Promise<void> {
  const config = loadOperatorConfig();
  // Before the first connection creates the runtime with its INFO default (a multi-line entry per worker state).
  Runtime.install({ logger: new DefaultLogger(config.temporalLogLevel) });
  let operator: StartedOperator | undefined;
  let starting = 'starting';
  const health = await startHealthServer({
    port: config.healthPort,
    address: config.healthAddress,
    state: () => operator?.health() ?? { live: true, ready: false, detail: starting },
  });
  // Until the worker runs, a stop signal ends the start (Temporal's runtime takes the signals over once it exists).
  const stopStart = new AbortController();
  const abortStart = (): void => stopStart.abort(new Error('stopped by a signal while starting'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, abortStart);
  try {
    const kubeConfig = loadKubeConfig(config.kubeconfig);
    const kube = makeKubeClients(kubeConfig);
    if (config.installCrds) await installCustomResourceDefinitions(kube);

    const temporal = await temporalConnectOptions(config);
    const where = describeTemporalConnection(config);
    const wait = {
      signal: stopStart.signal,
      onRetry: (error: string, _attempt: number, delayMs: number) => {
        starting = `waiting for Temporal at ${where}: ${error}`;
        console.log(`[operator] Temporal at ${where} not reachable (${error}); retrying in ${delayMs / 1000}s`);
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
        workflows: workflowSource(),
        maxConcurrentTasks: config.maxConcurrentTasks,
        maxCachedWorkflows: config.maxCachedWorkflows,
        activities: config,
        alertWebhookSecret: config.alertWebhookSecret,
        watch: {
          namespace: config.watchNamespace,
          lostNodeGraceMs: config.lostNodeGraceMs,
          remediation: config.remediation,
        },
      });
      console.log(
        `[operator] watching SymbolNodes in ${config.watchNamespace ?? 'all namespaces'}; task queue ${config.taskQueue} on ${where}; health on ${config.healthAddress}:${health.port}`,
      );
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
    console.log('[operator] stopped by a signal while starting');
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, abortStart);
    await health.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runOperator().catch((error: unknown) => {
    console.error(`operator: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
