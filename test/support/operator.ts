import './quietTemporal.js';
import type * as k8s from '@kubernetes/client-node';
import type { RemediationPolicy } from '../../workflows/remediation/policy.js';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { SecretKeyLocation } from '../../activities/alerts.js';
import { loadOperatorConfig, type OperatorConfig } from '../../worker/config.js';
import { startOperatorParts } from '../../worker/operator.js';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKubeClients, type KubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { endpoints } from '../../stack/versions.js';
import { testKubeConfig } from './cluster.js';
import { repoRoot, saiPackageZip } from './paths.js';
import { namespacedOperatorKubeConfig, type OperatorAccount } from './rbac.js';
import { logOperatorProcess, testLog } from './secretLedger.js';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
export const testOperatorImage = 'registry.example.org/symbol-node-operator:test';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/**
 * Bundled once per test process: webpack takes about a second, more on a busy machine. An operator process that a
 * test spawns takes its parent's from the file SNO_TEST_WORKFLOW_BUNDLE names ({@link workflowBundleFile}).
 */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const prebuilt = process.env.SNO_TEST_WORKFLOW_BUNDLE;
  bundle ??= prebuilt
    ? readFile(prebuilt, 'utf8').then((text) => JSON.parse(text) as WorkflowBundleWithSourceMap)
    : bundleWorkflowCode({
        workflowsPath,
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
      });
  return bundle;
}

let bundleFile: Promise<string> | undefined;
/** This process's workflow bundle in a file, for the operator processes it spawns. */
export function workflowBundleFile(): Promise<string> {
  bundleFile ??= (async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'sno-workflows-')), 'bundle.json');
    await writeFile(file, JSON.stringify(await workflowBundle()));
    return file;
  })();
  return bundleFile;
}

export interface RunningOperator {
  /** The admin's client, for the test's own setup and assertions. */
  kc: k8s.KubeConfig;
  kube: KubeClients;
  /** What the operator itself runs with: its ServiceAccount's token. */
  operatorKubeConfig: k8s.KubeConfig;
  client: Client;
  taskQueue: string;
  /** Stops the worker (graceful) and the watcher. */
  stop(): Promise<void>;
}

export interface OperatorOptions {
  namespace: string;
  taskQueue?: string;
  watch?: boolean;
  networkPackageOverrides?: Record<string, string>;
  /** Default: packages by URL only from the tests' own server on 127.0.0.1 (plain http), see {@link testPackageSources}. */
  networkPackageSources?: Partial<OperatorConfig['networkPackageSources']>;
  /**
   * The operator's credentials. Unset: a ServiceAccount bound to exactly the rules of k8s/manifests/rbac-namespaced
   * in `namespace` (a call outside them fails with 403, as in a real install). Benchmarks pass an instrumented one.
   */
  kubeConfig?: k8s.KubeConfig;
  /** The ServiceAccount to run as (default: the tests' shared one); a test that reads the audit log brings its own. */
  account?: OperatorAccount;
  maxConcurrent?: number;
  /** Shorter than production so that tests see escalation in seconds. */
  remediation?: Partial<RemediationPolicy>;
  lostNodeGraceMs?: number;
  /** Where the alert webhook URL is kept; unset: no webhook. */
  alertWebhookSecret?: SecretKeyLocation;
}

/** The tests serve packages from http servers on 127.0.0.1: exactly that is allowed, nothing else. */
export const testPackageSources = { allowedHosts: ['127.0.0.1'], allowHttp: true };

/** Remediation settings for tests: the defaults' shape with pauses of a second. */
export const testRemediationPolicy: Partial<RemediationPolicy> = { backoffMs: 1000, recoveryJobAttempts: 2 };

/**
 * The operator as `npm start` runs it — real worker, real watcher, real activities — confined to
 * one namespace and one task queue, so tests can run side by side on the shared stack, and running
 * as a namespace-scoped install's ServiceAccount. The CRD is installed by the admin, as in production.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const kc = testKubeConfig();
  const kube = makeKubeClients(kc);
  await installCustomResourceDefinitions(kube);
  const operatorKubeConfig =
    options.kubeConfig ?? (await namespacedOperatorKubeConfig(kc, options.namespace, options.account));
  const taskQueue = options.taskQueue ?? `operator-${randomBytes(4).toString('hex')}`;
  const connection = await NativeConnection.connect({ address: endpoints.temporalAddress });
  const clientConnection = await Connection.connect({ address: endpoints.temporalAddress });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  // Kept for the final secret scan (test/final/secret-scan.test.ts), which searches every operator's log.
  const operatorLog = testLog(`operator.${options.namespace}.${taskQueue}.log`);
  const operator = await startOperatorParts({
    kubeConfig: operatorKubeConfig,
    kube: makeKubeClients(operatorKubeConfig),
    connection,
    client,
    temporalNamespace: 'default',
    taskQueue,
    workflows: { workflowBundle: await workflowBundle() },
    maxConcurrentTasks: options.maxConcurrent ?? 200,
    activities: {
      operatorImage: testOperatorImage,
      networkPackageOverrides: options.networkPackageOverrides ?? { sai: saiPackageZip },
      networkPackageSources: {
        ...loadOperatorConfig({}).networkPackageSources,
        ...testPackageSources,
        ...options.networkPackageSources,
      },
    },
    alertWebhookSecret: options.alertWebhookSecret,
    watch: options.watch !== false && {
      namespace: options.namespace,
      lostNodeGraceMs: options.lostNodeGraceMs ?? 5000,
      remediation: { ...testRemediationPolicy, ...options.remediation },
      retryFailedAfterMs: 2000,
    },
    log: (line) => operatorLog.write(`${line}\n`),
  });
  let stopped = false;
  return {
    kc,
    kube,
    operatorKubeConfig,
    client,
    taskQueue,
    async stop() {
      if (stopped) return;
      stopped = true;
      await operator.stop();
      await connection.close();
      await clientConnection.close();
      operatorLog.end();
    },
  };
}

export async function withOperator<T>(
  options: OperatorOptions,
  body: (operator: RunningOperator) => Promise<T>,
): Promise<T> {
  const operator = await startOperator(options);
  try {
    return await body(operator);
  } finally {
    await operator.stop();
  }
}

/** The operator in a child process (test/fixtures/operatorProcess.ts), so that a test can SIGKILL it as a crash would. */
export interface OperatorProcess {
  /** Kills it with SIGKILL and waits for it to be gone. */
  kill(): Promise<void>;
}

export async function spawnOperatorProcess(namespace: string, taskQueue: string): Promise<OperatorProcess> {
  const script = fileURLToPath(new URL('../fixtures/operatorProcess.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, SNO_TEST_NAMESPACE: namespace, SNO_TEST_TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  logOperatorProcess(child, `operator-process.${namespace}.${taskQueue}.${child.pid}.log`);
  const exited = once(child, 'exit');
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`operator process exited early (${code})`)));
    });
  } catch (error) {
    await kill();
    throw error;
  }
  return { kill };
}
