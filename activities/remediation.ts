/**
 * Kubernetes steps of a remediation: stop the node, run catapult.recovery as a Job on its volume, start it
 * again. Each is idempotent: a retried or re-run step finds the state it left (replicas already 0, the Job
 * already created) and goes on from there.
 */
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isConflict, readIfExists, type KubeClients } from '../k8s/client.js';
import { buildRecoveryJob, objectNames, recoveryJobOwner, type RecoveryJobOptions } from '../k8s/objects/index.js';
import type { ParsedSymbolNode } from '../k8s/symbolNode.js';
import type { SharedWatch } from './sharedWatch.js';
import type { NodeRef } from './types.js';
import { waitForNodePodsGoneFor } from './workloads.js';

/** The remediation's own field manager: provisioning's server-side apply owns `replicas: 1` and takes it back. */
const REMEDIATION_FIELD_MANAGER = 'symbol-node-operator-remediation';
const HEARTBEAT_MS = 5000;

export interface StopNodeResult {
  /** Pods stuck Terminating on a NotReady Kubernetes node that were force-deleted. */
  forceDeleted: string[];
}

export interface RecoveryJobResult {
  job: string;
  succeeded: boolean;
  /** Why it failed: the Job's condition and the recovery container's exit, in one line. */
  message: string;
}

async function scaleNode(kube: KubeClients, ref: NodeRef, replicas: 0 | 1): Promise<void> {
  await kube.apps.patchNamespacedStatefulSet(
    {
      namespace: ref.namespace,
      name: objectNames(ref.name).statefulSet,
      body: { spec: { replicas } },
      fieldManager: REMEDIATION_FIELD_MANAGER,
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/**
 * Scales the node's StatefulSet to zero and waits, on the worker's pod cache, until its pod is gone, so nothing
 * else has the volume (a pod stuck Terminating on a NotReady Kubernetes node is force-deleted: workloads.ts).
 */
export async function stopNodeFor(
  kube: KubeClients,
  pods: SharedWatch<k8s.V1Pod>,
  ref: NodeRef,
): Promise<StopNodeResult> {
  await scaleNode(kube, ref, 0);
  return { forceDeleted: await waitForNodePodsGoneFor(kube, pods, ref) };
}

export async function startNodeFor(kube: KubeClients, ref: NodeRef): Promise<void> {
  await scaleNode(kube, ref, 1);
}

/**
 * Creates the recovery Job unless a retry already did; returns its name. A Job of that name that names another
 * owner is not ours: taking its outcome for this remediation's would skip or misjudge recovery, so that fails.
 */
export async function createRecoveryJobFor(
  kube: KubeClients,
  node: ParsedSymbolNode,
  options: RecoveryJobOptions,
): Promise<string> {
  const job = buildRecoveryJob(node, options);
  const name = job.metadata!.name!;
  const namespace = node.metadata.namespace;
  try {
    await kube.batch.createNamespacedJob({ namespace, body: job });
  } catch (error) {
    if (!isConflict(error)) throw error;
    if (!options.owner) return name;
    const existing = await kube.batch.readNamespacedJob({ namespace, name });
    const owner = recoveryJobOwner(existing);
    if (owner?.workflowId !== options.owner.workflowId || owner.runId !== options.owner.runId) {
      throw ApplicationFailure.create({
        type: 'RecoveryJobNotOurs',
        message:
          `Job ${name} exists but belongs to ${owner ? `${owner.workflowId} (run ${owner.runId})` : 'no remediation'}, ` +
          `not to ${options.owner.workflowId} (run ${options.owner.runId}): its outcome is not this recovery's`,
        nonRetryable: true,
      });
    }
  }
  return name;
}

function jobCondition(job: k8s.V1Job, type: string): k8s.V1JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}

/** The recovery container's termination, for the failure message. */
async function recoveryExit(kube: KubeClients, namespace: string, job: string): Promise<string> {
  const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` });
  for (const pod of pods.items) {
    const terminated = pod.status?.containerStatuses?.find((c) => c.name === 'recovery')?.state?.terminated;
    if (terminated) return `; catapult.recovery exited with ${terminated.exitCode} (${terminated.reason ?? 'Error'})`;
  }
  return '';
}

/**
 * Waits, through the worker's shared Job watch, for the Job to succeed or fail, heartbeating; a Job deleted
 * meanwhile counts as failed.
 */
export async function waitForRecoveryJobFor(
  kube: KubeClients,
  jobs: SharedWatch<k8s.V1Job>,
  namespace: string,
  name: string,
): Promise<RecoveryJobResult> {
  const context = Context.current();
  const deleted = { job: name, succeeded: false, message: `Job ${name} was deleted before it finished` };
  // The watch may not have seen the Job the step before created: only a deletion it saw, or a read, says it is gone.
  let seen = false;
  for (;;) {
    let ended = await Promise.race([
      jobs.waitFor(
        namespace,
        name,
        (job) => {
          if (!job) return seen ? 'deleted' : undefined;
          seen = true;
          return jobCondition(job, 'Complete') ? 'succeeded' : jobCondition(job, 'Failed') ? 'failed' : undefined;
        },
        { timeoutMs: HEARTBEAT_MS, signal: context.cancellationSignal },
      ),
      context.cancelled,
    ]);
    if (ended === 'deleted') return deleted;
    if (ended === 'succeeded') return { job: name, succeeded: true, message: `Job ${name} succeeded` };
    // The watch is down (an API outage, a restart in progress): the API itself answers, or its failure is the
    // outage the workflow waits out and reports.
    const watchDown = ended === undefined && !jobs.health().healthy;
    const read =
      !seen || watchDown ? await readIfExists(() => kube.batch.readNamespacedJob({ namespace, name })) : null;
    if (read === undefined) return deleted;
    if (read && jobCondition(read, 'Complete')) return { job: name, succeeded: true, message: `Job ${name} succeeded` };
    const job = read && jobCondition(read, 'Failed') ? read : jobs.get(namespace, name);
    if (read && jobCondition(read, 'Failed')) ended = 'failed';
    if (ended === 'failed' && job) {
      const failed = jobCondition(job, 'Failed');
      const exit = await recoveryExit(kube, namespace, name);
      return {
        job: name,
        succeeded: false,
        message: `Job ${name} failed: ${failed?.reason ?? 'Failed'}${failed?.message ? ` (${failed.message})` : ''}${exit}`,
      };
    }
    context.heartbeat(`Job ${name}: active ${job?.status?.active ?? 0}`);
  }
}
