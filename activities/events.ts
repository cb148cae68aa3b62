import * as k8s from '@kubernetes/client-node';
import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { isConflict, type KubeClients } from '../k8s/client.js';
import { symbolNodeGroup, symbolNodeKind, symbolNodeVersion } from '../k8s/symbolNode.js';
import type { NodeEvent, NodeRef } from './types.js';

const component = 'symbol-node-operator';
/** The workflow step that last recorded (or repeated) the Event. */
const RECORDED_BY = 'symbol.nodeoperator.io/recorded-by';

/**
 * The activity recording the Event, the same however often it runs: its workflow run and activity id, which a
 * retry, or a re-run after the worker crashed before the result reached the history, keeps.
 */
function recordingStep(): string | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const { workflowId, runId } = info.workflowExecution ?? {};
  return createHash('sha256').update(`${workflowId}\n${runId}\n${info.activityId}`).digest('hex').slice(0, 16);
}

/**
 * Records a Kubernetes Event on the SymbolNode (shown by `kubectl describe sn`). The name is derived
 * from the node, reason and message, so the same event again bumps the count of the same Event
 * instead of adding a duplicate; the same step run again (a retry, a re-run after a crash) leaves it as it is.
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
  const step = recordingStep();
  const annotations = step ? { [RECORDED_BY]: step } : undefined;
  try {
    await kube.core.createNamespacedEvent({
      namespace: ref.namespace,
      body: {
        metadata: { name, namespace: ref.namespace, ...(annotations ? { annotations } : {}) },
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
    if (step && existing.metadata?.annotations?.[RECORDED_BY] === step) return;
    const body = { count: (existing.count ?? 1) + 1, lastTimestamp: timestamp, metadata: { annotations } };
    await kube.core.patchNamespacedEvent(
      { name, namespace: ref.namespace, body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }
}
