import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { isConflict, type KubeClients } from '../k8s/client.js';
import { symbolNodeGroup, symbolNodeKind, symbolNodeVersion } from '../k8s/symbolNode.js';
import type { NodeEvent, NodeRef } from './types.js';

const component = 'symbol-node-operator';

/**
 * Records a Kubernetes Event on the SymbolNode (shown by `kubectl describe sn`). The name is derived
 * from the node, reason and message, so a retried activity bumps the count of the same Event
 * instead of adding a duplicate.
 */
export async function recordNodeEvent(
  kube: KubeClients,
  ref: NodeRef,
  event: NodeEvent,
  now = new Date(),
): Promise<void> {
  const digest = createHash('sha256')
    .update(`${ref.uid}\n${event.reason}\n${event.message}`)
    .digest('hex')
    .slice(0, 16);
  const name = `${ref.name}.${digest}`;
  const timestamp = now;
  try {
    await kube.core.createNamespacedEvent({
      namespace: ref.namespace,
      body: {
        metadata: { name, namespace: ref.namespace },
        involvedObject: {
          apiVersion: `${symbolNodeGroup}/${symbolNodeVersion}`,
          kind: symbolNodeKind,
          name: ref.name,
          namespace: ref.namespace,
          uid: ref.uid,
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        source: { component },
        reportingComponent: component,
        reportingInstance: process.env.HOSTNAME ?? component,
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        count: 1,
      },
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
    const existing = await kube.core.readNamespacedEvent({ name, namespace: ref.namespace });
    await kube.core.patchNamespacedEvent(
      { name, namespace: ref.namespace, body: { count: (existing.count ?? 1) + 1, lastTimestamp: timestamp } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }
}
