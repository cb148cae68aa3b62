/**
 * The operator process: a Temporal worker running the node workflows and their activities, plus
 * the watcher that turns SymbolNode changes into workflow signals.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { loadKubeConfig, makeKubeClients } from '../k8s/client.js';
import { installCustomResourceDefinitions } from '../k8s/install.js';
import { loadOperatorConfig } from './config.js';
import { startOperatorParts } from './operator.js';

export async function runOperator(): Promise<void> {
  const config = loadOperatorConfig();
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const kube = makeKubeClients(kubeConfig);
  if (process.env.SNO_INSTALL_CRDS !== 'false') await installCustomResourceDefinitions(kube);

  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const clientConnection = await Connection.connect({ address: config.temporalAddress });
  try {
    const operator = await startOperatorParts({
      kubeConfig,
      kube,
      connection,
      client: new Client({ connection: clientConnection, namespace: config.temporalNamespace }),
      temporalNamespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      workflows: { workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)) },
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
      `[operator] watching SymbolNodes in ${config.watchNamespace ?? 'all namespaces'}; task queue ${config.taskQueue} on ${config.temporalAddress}`,
    );
    try {
      await operator.running; // returns after SIGINT/SIGTERM, once in-flight tasks are done
    } finally {
      await operator.stop();
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
