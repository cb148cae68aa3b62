/**
 * The scenario of the infrastructure fault tests (test/disruptive): one SymbolNode in the middle of its
 * provisioning and another in the middle of a remediation when a fault (kube-apiserver or Temporal gone)
 * begins, both on a simulated Kubernetes node of the test's own. Both are held at a known step until the fault
 * has begun, so that it strikes them there every time, not where a race leaves them:
 * - the provisioning downloads its network package from the test, which answers only once the fault began:
 *   the identity Secret exists, the configuration, the workloads and the status writes are still to come;
 * - the remediation's recovery Job cannot run while the Kubernetes node is cordoned: the node is at 0 replicas
 *   and the workflow waits for the Job. The node is uncordoned once the fault is over.
 * What happened is returned for the test to judge.
 */
import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CoreV1Event } from '@kubernetes/client-node';
import { simulatedNode } from '../../stack/cluster.js';
import { readIfExists } from '../../k8s/client.js';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import type { ProvisionOutcome } from '../../workflows/provisionNode.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { watchUntil, withNamespace } from './cluster.js';
import { injectPodFault } from './faults.js';
import { withOperator, type OperatorOptions } from './operator.js';
import { serveBytes, startPackageServer, type PackageServer } from './packageServer.js';
import { saiPackageZip } from './paths.js';
import { createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from './symbolNodes.js';

const taintKey = 'test.symbol.nodeoperator.io/pool';
const saiZip = readFileSync(saiPackageZip);
const saiSha256 = createHash('sha256').update(saiZip).digest('hex');
/** Provisioned while the fault begins. */
export const provisionedName = 'fresh';
/** Remediated while the fault begins. */
export const remediatedName = 'mended';

export interface Fault {
  /** Takes the process away; returns once it is gone. */
  begin(): Promise<void>;
  /** Brings it back after the outage's length; returns once it serves again. */
  end(): Promise<void>;
}

export interface FaultWindow {
  /** When the fault began and ended (ms since the epoch): the process gone, then serving again. */
  stoppedAt: number;
  backAt: number;
}

export interface NodeAfterFault {
  lifecycleId: string;
  node: SymbolNode;
  events: CoreV1Event[];
  /** Every version of the SymbolNode a watch saw from the fault on (reconnecting across an API outage). */
  seen: SymbolNode[];
  /** Seconds from the end of the fault to the workflow's result. */
  secondsAfterFault: number;
  /** Of the node's StatefulSet; undefined when there is none. */
  replicas: number | undefined;
  /** uid and data of the node's Secrets when the fault began, and at the end. */
  secretsAtFault: Record<string, SecretImage>;
  secretsAfter: Record<string, SecretImage>;
}

/** The workflow itself failed (a lifecycle that gave up). */
export interface Failed {
  outcome: 'WorkflowFailed';
  message: string;
}

export interface SecretImage {
  uid?: string;
  data?: Record<string, string>;
}

export interface ThroughFault {
  window: FaultWindow;
  provisioned: NodeAfterFault & { outcome: ProvisionOutcome | Failed; provisionRuns: string[] };
  remediated: NodeAfterFault & { outcome: RemediationOutcome | Failed; nextRemediationExists: boolean };
  jobs: string[];
}

const statusNames = (runs: { status: { name: string } }[]): string[] => runs.map((r) => r.status.name);

/**
 * Runs the scenario: `fault` begins once both workflows are held; the provisioning is let go on at once, the
 * remediation once the fault is over (the node uncordoned). Both must then finish within `timeoutMs`.
 */
export async function throughFault(
  prefix: string,
  fault: Fault,
  options: { operator?: Partial<OperatorOptions>; timeoutMs?: number } = {},
): Promise<ThroughFault> {
  const heldPackage = await holdPackage();
  try {
    return await scenario(prefix, fault, options, heldPackage);
  } finally {
    heldPackage.release();
    await heldPackage.server.close();
  }
}

async function scenario(
  prefix: string,
  fault: Fault,
  options: { operator?: Partial<OperatorOptions>; timeoutMs?: number },
  heldPackage: HeldPackage,
): Promise<ThroughFault> {
  return withNamespace(prefix, (namespace, kc) =>
    withOwnNode(kc, namespace, (cordon) =>
      withOperator({ namespace, ...options.operator }, async ({ kube, client }) => {
        const spec = {
          ...saiPeerSpec,
          nodeSelector: { pool: namespace },
          tolerations: [{ key: taintKey, operator: 'Equal', value: namespace, effect: 'NoSchedule' }],
        };
        const mended = await createSymbolNode(kc, namespace, remediatedName, spec);
        await waitForCondition(kc, namespace, remediatedName, 'Ready', 'True', 90_000);
        await cordon(true);

        // The remediation: the node is stopped and its recovery Job waits for a place to run.
        const jobCreated = watchUntil(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, {}, () => true, 90_000);
        await injectPodFault(kc, namespace, `${remediatedName}-0`, {
          kind: 'crash-loop',
          container: 'server',
          exitCode: 253,
          restartInterval: '1s',
        });
        await jobCreated;

        // The provisioning: its identity exists, its package download waits for the fault.
        const identityCreated = watchUntil<k8s.V1Secret>(
          kc,
          `/api/v1/namespaces/${namespace}/secrets`,
          {},
          (secret) => secret.metadata?.name === `${provisionedName}-identity`,
        );
        const fresh = await createSymbolNode(kc, namespace, provisionedName, {
          ...spec,
          network: 'custom',
          networkPackage: { url: `${heldPackage.origin}/sai.zip`, sha256: saiSha256 },
        });
        await Promise.all([identityCreated, heldPackage.requested]);
        const recorder = recordSymbolNodes(kc, namespace);
        const secretsAtFault = await nodeSecrets(kube.core, namespace);
        await fault.begin();
        const stoppedAt = Date.now();
        heldPackage.release();
        await fault.end();
        const window = { stoppedAt, backAt: Date.now() };
        await cordon(false);

        const lifecycleId = (node: SymbolNode) =>
          nodeLifecycleWorkflowId({ namespace, name: node.metadata!.name!, uid: node.metadata!.uid! });
        const freshId = lifecycleId(fresh);
        const mendedId = lifecycleId(mended);
        // A workflow that failed (it should not) is an outcome to report, not an error of the test.
        const timed = async <T>(what: string, result: Promise<T>): Promise<{ value: T | Failed; seconds: number }> => {
          const value = await withDeadline(result, options.timeoutMs ?? 240_000, what).catch((error: unknown) => {
            if (!(error instanceof WorkflowFailedError)) throw error;
            return { outcome: 'WorkflowFailed', message: String(error.cause?.message ?? error.message) } as const;
          });
          return { value, seconds: (Date.now() - window.backAt) / 1000 };
        };
        const [provision, remediation] = await Promise.all([
          timed(
            'the provisioning',
            client.workflow.getHandle(`${freshId}/provision/1`).result() as Promise<ProvisionOutcome>,
          ),
          timed(
            'the remediation',
            client.workflow.getHandle(`${mendedId}/remediate/1`).result() as Promise<RemediationOutcome>,
          ),
        ]);
        // Ready is written by the workflows' last steps: the statuses are final now.
        recorder.stop();
        const secretsAfter = await nodeSecrets(kube.core, namespace);
        const after = async (name: string, id: string, seconds: number): Promise<NodeAfterFault> => {
          const node = (await kc.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
            name,
          })) as SymbolNode;
          const mine = (secrets: Record<string, SecretImage>) =>
            Object.fromEntries(Object.entries(secrets).filter(([secret]) => secret.startsWith(`${name}-`)));
          const statefulSet = await readIfExists(() => kube.apps.readNamespacedStatefulSet({ namespace, name }));
          return {
            lifecycleId: id,
            node,
            events: await nodeEvents(kc, namespace, name),
            seen: recorder.seen.filter((n) => n.metadata?.name === name),
            secondsAfterFault: seconds,
            replicas: statefulSet?.spec?.replicas,
            secretsAtFault: mine(secretsAtFault),
            secretsAfter: mine(secretsAfter),
          };
        };
        const provisionRuns = [];
        for await (const run of client.workflow.list({ query: `WorkflowId = '${freshId}/provision/1'` }))
          provisionRuns.push(run);
        return {
          window,
          provisioned: {
            ...(await after(provisionedName, freshId, provision.seconds)),
            outcome: provision.value,
            provisionRuns: statusNames(provisionRuns),
          },
          remediated: {
            ...(await after(remediatedName, mendedId, remediation.seconds)),
            outcome: remediation.value,
            nextRemediationExists: await workflowExists(client, `${mendedId}/remediate/2`),
          },
          jobs: (await kube.batch.listNamespacedJob({ namespace })).items.map((j) => j.metadata!.name!),
        };
      }),
    ),
  );
}

interface HeldPackage {
  origin: string;
  server: PackageServer;
  /** Resolves when the operator asks for the package. */
  requested: Promise<void>;
  /** Lets the answer go. */
  release(): void;
}

/** The sai package served on 127.0.0.1 (the tests' operators may fetch from there), held until released. */
async function holdPackage(): Promise<HeldPackage> {
  let requested!: () => void;
  let release!: () => void;
  const requestedPromise = new Promise<void>((resolve) => (requested = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = await startPackageServer({
    '/sai.zip': (request, response) => {
      requested();
      void released.then(() => serveBytes(saiZip)(request, response));
    },
  });
  return { origin: server.origin, server, requested: requestedPromise, release };
}

/** A simulated Kubernetes node only this test's pods may use (a taint keeps other pods away). */
async function withOwnNode<T>(
  kc: k8s.KubeConfig,
  pool: string,
  body: (cordon: (unschedulable: boolean) => Promise<void>) => Promise<T>,
): Promise<T> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${pool}-node`;
  await core.createNode({
    body: simulatedNode(name, { pool }, [{ key: taintKey, value: pool, effect: 'NoSchedule' }]),
  });
  const cordon = async (unschedulable: boolean) => {
    await core.patchNode(
      { name, body: { spec: { unschedulable } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  };
  try {
    return await body(cordon);
  } finally {
    await core.deleteNode({ name }).catch(() => undefined);
  }
}

async function nodeSecrets(core: k8s.CoreV1Api, namespace: string): Promise<Record<string, SecretImage>> {
  const secrets = await core.listNamespacedSecret({ namespace });
  return Object.fromEntries(
    secrets.items
      .filter(
        (s) =>
          s.metadata?.name?.startsWith(`${provisionedName}-`) || s.metadata?.name?.startsWith(`${remediatedName}-`),
      )
      .map((s) => [s.metadata!.name!, { uid: s.metadata?.uid, data: s.data }]),
  );
}

async function workflowExists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s after the fault`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every SymbolNode version in the namespace, through a watch that reconnects every 200 ms when it breaks
 * (as during an API outage), so that a status written right after the API server returns is seen.
 */
function recordSymbolNodes(kc: k8s.KubeConfig, namespace: string): { seen: SymbolNode[]; stop(): void } {
  const seen: SymbolNode[] = [];
  let stopped = false;
  let request: AbortController | undefined;
  const start = (): void => {
    if (stopped) return;
    const again = () => void setTimeout(start, 200);
    new k8s.Watch(kc)
      .watch(
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
        {},
        (_type, node: SymbolNode) => seen.push(node),
        again,
      )
      .then((controller) => {
        request = controller;
        if (stopped) controller.abort();
      }, again);
  };
  start();
  return {
    seen,
    stop() {
      stopped = true;
      request?.abort();
    },
  };
}
