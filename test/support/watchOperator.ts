import './quietTemporal.js';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretKeyLocation } from '../../activities/alerts.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { makeKubeClients } from '../../k8s/client.js';
import { endpoints } from '../../stack/versions.js';
import { startOperatorParts, type StartedOperator } from '../../worker/operator.js';
import type { RemediationPolicy } from '../../workflows/remediation/policy.js';
import { testKubeConfig } from './cluster.js';
import { testOperatorImage, testRemediationPolicy, workflowBundle } from './operator.js';
import { saiPackageZip } from './paths.js';
import { namespacedOperatorKubeConfig } from './rbac.js';

export interface WatchOperatorOptions {
  namespace: string;
  /** Replicas share it: start two with the same one. */
  taskQueue: string;
  /** SymbolNode resync: every lifecycle re-asserted this often. */
  resyncMs?: number;
  /** Pod resync: each pod compared with its lifecycle's record this often. */
  podResyncMs?: number;
  remediation?: Partial<RemediationPolicy>;
  alertWebhookSecret?: SecretKeyLocation;
}

export interface WatchOperator {
  operator: StartedOperator;
  client: Client;
  stop(): Promise<void>;
}

export function newTaskQueue(): string {
  return `operator-${randomBytes(4).toString('hex')}`;
}

/**
 * The operator as test/support/operator.ts runs it (namespace-scoped ServiceAccount, real worker and watchers),
 * with the watchers' resync periods set and its parts (the cache) in reach, for the watch tests.
 */
export async function startWatchOperator(options: WatchOperatorOptions): Promise<WatchOperator> {
  const kc = testKubeConfig();
  await installCustomResourceDefinitions(makeKubeClients(kc));
  const operatorKubeConfig = await namespacedOperatorKubeConfig(kc, options.namespace);
  const connection = await NativeConnection.connect({ address: endpoints.temporalAddress });
  const clientConnection = await Connection.connect({ address: endpoints.temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const operator = await startOperatorParts({
    kubeConfig: operatorKubeConfig,
    kube: makeKubeClients(operatorKubeConfig),
    connection,
    client,
    temporalNamespace: 'default',
    taskQueue: options.taskQueue,
    workflows: { workflowBundle: await workflowBundle() },
    maxConcurrentTasks: 200,
    activities: { operatorImage: testOperatorImage, networkPackageOverrides: { sai: saiPackageZip } },
    alertWebhookSecret: options.alertWebhookSecret,
    watch: {
      namespace: options.namespace,
      lostNodeGraceMs: 5000,
      remediation: { ...testRemediationPolicy, ...options.remediation },
      retryFailedAfterMs: 2000,
      ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
      ...(options.podResyncMs ? { podResyncMs: options.podResyncMs } : {}),
    },
    log: () => undefined,
  });
  let stopped = false;
  return {
    operator,
    client,
    async stop() {
      if (stopped) return;
      stopped = true;
      await operator.stop();
      await connection.close();
      await clientConnection.close();
    },
  };
}

export async function withWatchOperators<T>(
  all: WatchOperatorOptions[],
  body: (operators: WatchOperator[]) => Promise<T>,
): Promise<T> {
  const operators: WatchOperator[] = [];
  try {
    for (const options of all) operators.push(await startWatchOperator(options));
    return await body(operators);
  } finally {
    await Promise.all(operators.map((operator) => operator.stop()));
  }
}

/**
 * Polls `probe` until it answers; a workflow not found yet is no answer. Not a timed assertion: the deadline only
 * ends a hung test.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs / 1000} s: ${what}`);
    await sleep(250);
  }
}
