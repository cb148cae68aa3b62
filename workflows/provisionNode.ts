import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  patched,
  proxyLocalActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import { nonRetryableErrorTypes, type NodeIdentity, type NodeRef } from '../activities/types.js';
import { nodeActionKey } from './searchAttributes.js';

type Activities = NodeActivities;

const retry = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 10,
  nonRetryableErrorTypes: [...nonRetryableErrorTypes],
};

// Each step is a handful of Kubernetes API calls that take milliseconds (seconds for a loaded API
// server, hence the generous timeout: a retry would only add load): local activities run them
// in the worker without a round trip through the server per step (they still appear in the history
// as markers, and are retried, and re-run by another worker after a crash — they are idempotent).
const { readSymbolNode, reportNodeStatus, ensureNodeIdentity, ensureNodeConfiguration, applyNodeWorkloads } =
  proxyLocalActivities<Activities>({
    startToCloseTimeout: '60 seconds',
    localRetryThreshold: '10 seconds',
    retry,
  });

// Waiting for the pod can take minutes (image pulls, scheduling): a regular, heartbeating activity
// that a crashed worker's successor resumes; each attempt waits up to a minute.
const { waitForNodeReady } = proxyActivities<Activities>({
  startToCloseTimeout: '90 seconds',
  heartbeatTimeout: '15 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 1, nonRetryableErrorTypes: [...nonRetryableErrorTypes] },
});

export interface ProvisionNodeInput {
  ref: NodeRef;
  generation: number;
}

export type ProvisionOutcome =
  | {
      outcome: 'Ready';
      /** The server image now running (absent in runs recorded before it was added). */ image?: string;
    }
  | { outcome: 'Failed' | 'Gone'; reason: string; message: string };

/** The condition reason: the precise one an activity attached (e.g. UnknownNetwork), else the error type. */
function failureOf(error: unknown): { type: string; reason: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'Error';
    const detail = cause.details?.[0];
    return { type, reason: typeof detail === 'string' ? detail : type, message: cause.message };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type: 'ProvisioningFailed', reason: 'ProvisioningFailed', message };
}

/**
 * Turns one generation of a SymbolNode spec into a running node: identity and certificates
 * (Secrets), configuration (ConfigMap), workloads (StatefulSet, Services), then waits for Ready.
 * Every step is idempotent, so a retried or replayed run converges on the same objects and keys.
 */
export async function provisionNode({ ref, generation }: ProvisionNodeInput): Promise<ProvisionOutcome> {
  upsertSearchAttributes([{ key: nodeActionKey, value: 'provision' }]);
  try {
    const node = await readSymbolNode(ref);
    const reportProvisioning = reportNodeStatus(ref, {
      generation,
      conditions: [
        {
          type: 'Progressing',
          status: 'True',
          reason: 'Provisioning',
          message: `provisioning generation ${generation}`,
        },
      ],
      event: { type: 'Normal', reason: 'Provisioning', message: `provisioning generation ${generation}` },
    });
    let identity: NodeIdentity;
    if (patched('independent-steps-in-parallel')) {
      // Identity and configuration do not depend on each other: run them (and the progress report)
      // at once. The certificates' part of the pod's config hash is added by applyNodeWorkloads.
      const [, withIdentity, configuration] = await Promise.all([
        reportProvisioning,
        ensureNodeIdentity(ref, node.spec),
        ensureNodeConfiguration(ref, node.spec),
      ]);
      identity = withIdentity;
      await applyNodeWorkloads(ref, node.spec, configuration, identity);
    } else {
      await reportProvisioning;
      identity = await ensureNodeIdentity(ref, node.spec);
      const configuration = await ensureNodeConfiguration(ref, node.spec, identity);
      await applyNodeWorkloads(ref, node.spec, configuration);
    }
    await reportNodeStatus(ref, {
      generation,
      conditions: [
        {
          type: 'Provisioned',
          status: 'True',
          reason: 'ObjectsApplied',
          message: 'Secrets, ConfigMap, StatefulSet and Services are in place',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'WaitingForPod',
          message: 'waiting for the node pod to become Ready',
        },
      ],
      fields: {
        mainPublicKey: identity.mainPublicKey,
        nodePublicKey: identity.nodePublicKey,
        address: identity.address,
        image: node.spec.image,
        network: node.spec.network,
      },
    });
    await waitForNodeReady(ref);
    await reportNodeStatus(ref, {
      generation,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'NodeReady', message: 'the node pod is Ready' },
        {
          type: 'Progressing',
          status: 'False',
          reason: 'Provisioned',
          message: `generation ${generation} is provisioned`,
        },
        { type: 'Degraded', status: 'False', reason: 'Provisioned', message: 'no known problem' },
      ],
      event: { type: 'Normal', reason: 'Provisioned', message: `generation ${generation} is provisioned and Ready` },
    });
    return { outcome: 'Ready', image: node.spec.image };
  } catch (error) {
    const { type, reason, message } = failureOf(error);
    if (type === 'NodeGone') return { outcome: 'Gone', reason, message };
    await reportNodeStatus(ref, {
      generation,
      conditions: [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Degraded', status: 'True', reason, message },
        { type: 'Progressing', status: 'False', reason, message },
      ],
      event: { type: 'Warning', reason, message },
    });
    return { outcome: 'Failed', reason, message };
  }
}
