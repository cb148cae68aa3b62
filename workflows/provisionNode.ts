import {
  proxyActivities,
  patched,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NodeActivities } from '../activities/index.js';
import type { ConditionUpdate, NodeConfiguration, NodeEvent, NodeIdentity, NodeRef } from '../activities/types.js';
import { durableSteps, outageQuery, type OutageHolder } from './durableStep.js';
import { failureOf, kubernetesStepOptions, waitForNodeReadyOptions } from './kubernetesSteps.js';
import { nodeActionKey } from './searchAttributes.js';

type Activities = NodeActivities;

const { readSymbolNode, reportNodeStatus, ensureNodeIdentity, ensureNodeConfiguration, applyNodeWorkloads } =
  proxyLocalActivities<Activities>(kubernetesStepOptions);
const { waitForNodeReady } = proxyActivities<Activities>(waitForNodeReadyOptions);

export interface ProvisionNodeInput {
  ref: NodeRef;
  generation: number;
}

const OBJECTS_APPLIED = 'Secrets, ConfigMap, StatefulSet and Services are in place';

/**
 * The Provisioned condition names the starting peers; a node without any connects to nobody and never syncs,
 * so that is a Warning Event and the condition's reason (catapult starts without complaint).
 */
function provisionedReport(configuration: NodeConfiguration | undefined): {
  condition: ConditionUpdate;
  event?: NodeEvent;
} {
  const provisioned = (reason: string, message: string): ConditionUpdate => ({
    type: 'Provisioned',
    status: 'True',
    reason,
    message,
  });
  const peers = configuration?.peers;
  if (peers === undefined) return { condition: provisioned('ObjectsApplied', OBJECTS_APPLIED) };
  if (peers.p2p > 0) {
    return { condition: provisioned('ObjectsApplied', `${OBJECTS_APPLIED}; starting peers: ${peers.summary}`) };
  }
  const message =
    `peers-p2p.json lists no peer (${peers.summary}): the node will connect to nobody and not sync until ` +
    `spec.peers names some`;
  return {
    condition: provisioned('NoKnownPeers', `${OBJECTS_APPLIED}; ${message}`),
    event: { type: 'Warning', reason: 'NoKnownPeers', message },
  };
}

export type ProvisionOutcome =
  | {
      outcome: 'Ready';
      /** The server image now running (absent in runs recorded before it was added). */ image?: string;
    }
  | { outcome: 'Failed' | 'Gone'; reason: string; message: string };

/**
 * Turns one generation of a SymbolNode spec into a running node: identity and certificates
 * (Secrets), configuration (ConfigMap), workloads (StatefulSet, Services), then waits for Ready.
 * Every step is idempotent, so a retried or replayed run converges on the same objects and keys.
 */
export async function provisionNode({ ref, generation }: ProvisionNodeInput): Promise<ProvisionOutcome> {
  upsertSearchAttributes([{ key: nodeActionKey, value: 'provision' }]);
  // An outage of the API server is waited out, step by step: provisioning ends only with an outcome.
  const holder: OutageHolder = {};
  setHandler(outageQuery, () => holder.outage);
  const durably = durableSteps(ref, () => generation, holder);
  const report = (step: string, status: Parameters<typeof reportNodeStatus>[1]) =>
    durably(step, () => reportNodeStatus(ref, status));
  try {
    const node = await durably('reading the SymbolNode', () => readSymbolNode(ref));
    const reportProvisioning = report('reporting the provisioning', {
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
    let configuration: NodeConfiguration;
    if (patched('independent-steps-in-parallel')) {
      // Identity and configuration do not depend on each other: run them (and the progress report)
      // at once. The certificates' part of the pod's config hash is added by applyNodeWorkloads.
      const [, withIdentity, configured] = await Promise.all([
        reportProvisioning,
        durably('creating the node identity', () => ensureNodeIdentity(ref, node.spec)),
        durably('writing the node configuration', () => ensureNodeConfiguration(ref, node.spec)),
      ]);
      identity = withIdentity;
      configuration = configured;
      await durably('applying the workloads', () => applyNodeWorkloads(ref, node.spec, configuration, identity));
    } else {
      await reportProvisioning;
      identity = await durably('creating the node identity', () => ensureNodeIdentity(ref, node.spec));
      configuration = await durably('writing the node configuration', () =>
        ensureNodeConfiguration(ref, node.spec, identity),
      );
      await durably('applying the workloads', () => applyNodeWorkloads(ref, node.spec, configuration));
    }
    const provisioned = provisionedReport(patched('report-starting-peers') ? configuration : undefined);
    await report('reporting the applied objects', {
      generation,
      conditions: [
        provisioned.condition,
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
      ...(provisioned.event ? { event: provisioned.event } : {}),
    });
    // A pod that never becomes Ready is the answer after 30 min, not an outage.
    await durably('waiting for the node pod', () => waitForNodeReady(ref), { retryTimeouts: false });
    await report('reporting the node Ready', {
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
    const { type, reason, message } = failureOf(error, 'ProvisioningFailed');
    if (type === 'NodeGone') return { outcome: 'Gone', reason, message };
    await report('reporting the failure', {
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
