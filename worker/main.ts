/**
 * The operator process: a Temporal worker running the node workflows and their activities, plus
 * the watcher that turns SymbolNode changes into workflow signals.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createNodeActivities } from '../activities/index.js';
import { OperatorWatches } from '../activities/sharedWatch.js';
import { loadKubeConfig, makeKubeClients } from '../k8s/client.js';
import { installCustomResourceDefinitions } from '../k8s/install.js';
import { WebhookAlerts } from '../activities/alerts.js';
import { alertWebhookSecretLocation, loadOperatorConfig } from './config.js';
import { NodePodWatcher } from './podWatcher.js';
import { SymbolNodeWatcher } from './watcher.js';
import { operatorWorkerTuning } from './workerOptions.js';

export async function runOperator(): Promise<void> {
  const config = loadOperatorConfig();
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const kube = makeKubeClients(kubeConfig);
  if (process.env.SNO_INSTALL_CRDS !== 'false') await installCustomResourceDefinitions(kube);

  const watches = new OperatorWatches(kubeConfig);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const clientConnection = await Connection.connect({ address: config.temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
      activities: createNodeActivities({
        kube,
        watches,
        alerts: new WebhookAlerts(kube, alertWebhookSecretLocation(config.alertWebhookSecret)),
        config,
      }),
      ...operatorWorkerTuning(config.maxConcurrentTasks),
      maxCachedWorkflows: config.maxCachedWorkflows,
    });
    const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
    const watcher = new SymbolNodeWatcher({
      kubeConfig,
      client,
      taskQueue: config.taskQueue,
      namespace: config.watchNamespace,
      remediation: config.remediation,
    });
    await watcher.start();
    const podWatcher = new NodePodWatcher({
      kubeConfig,
      client,
      namespace: config.watchNamespace,
      lostNodeGraceMs: config.lostNodeGraceMs,
      uidOf: (namespace, name) => watcher.uidOf(namespace, name),
    });
    await podWatcher.start();
    console.log(
      `[operator] watching SymbolNodes in ${config.watchNamespace ?? 'all namespaces'}; task queue ${config.taskQueue} on ${config.temporalAddress}`,
    );
    try {
      await worker.run(); // returns after SIGINT/SIGTERM, once in-flight tasks are done
    } finally {
      await podWatcher.stop();
      await watcher.stop();
      await watches.stop();
    }
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runOperator().catch((error: unknown) => {
    console.error(`operator: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
