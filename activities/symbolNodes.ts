import { ApplicationFailure } from '@temporalio/activity';
import { isConflict, isNotFound, type KubeClients } from '../k8s/client.js';
import { computePhase, setCondition } from '../k8s/conditions.js';
import {
  API_VERSION,
  KIND,
  parseSymbolNode,
  symbolNodeGroup,
  symbolNodePlural,
  symbolNodeVersion,
  type ParsedSymbolNode,
  type SymbolNode,
  type SymbolNodeSpec,
} from '../k8s/symbolNode.js';
import { recordNodeEvent } from './events.js';
import type { NodeRef, StatusReport } from './types.js';

const api = { group: symbolNodeGroup, version: symbolNodeVersion, plural: symbolNodePlural };

export interface ValidNode {
  generation: number;
  spec: SymbolNodeSpec;
}

async function getNode(kube: KubeClients, ref: NodeRef): Promise<SymbolNode> {
  try {
    const node = (await kube.custom.getNamespacedCustomObject({
      ...api,
      namespace: ref.namespace,
      name: ref.name,
    })) as SymbolNode;
    if (node.metadata?.uid !== ref.uid || node.metadata.deletionTimestamp) throw nodeGone(ref);
    return node;
  } catch (error) {
    if (isNotFound(error)) throw nodeGone(ref);
    throw error;
  }
}

function nodeGone(ref: NodeRef): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'NodeGone',
    nonRetryable: true,
    message: `SymbolNode ${ref.namespace}/${ref.name} (uid ${ref.uid}) no longer exists`,
  });
}

/** The builders' view of a node whose spec was validated by readSymbolNode in the same workflow. */
export function asParsedNode(ref: NodeRef, spec: SymbolNodeSpec): ParsedSymbolNode {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: ref.name, namespace: ref.namespace, uid: ref.uid },
    spec,
  };
}

/**
 * The SymbolNode objects this worker last read or wrote, by uid. Only the node's own lifecycle workflow writes its
 * status, so the object it wrote last is almost always current: a status write starts from it instead of a GET.
 * When it is not (another replica wrote, the spec changed), the write fails on its resourceVersion and is redone
 * from a fresh read, so a stale entry costs one request and never loses an update.
 */
export class KnownNodes {
  private readonly nodes = new Map<string, SymbolNode>();

  constructor(private readonly capacity = 10_000) {}

  get(uid: string): SymbolNode | undefined {
    return this.nodes.get(uid);
  }

  set(node: SymbolNode): void {
    const uid = node.metadata?.uid;
    if (!uid) return;
    this.nodes.delete(uid);
    this.nodes.set(uid, node);
    // Oldest first: a Map iterates in insertion order.
    if (this.nodes.size > this.capacity) this.nodes.delete(this.nodes.keys().next().value!);
  }

  forget(uid: string): void {
    this.nodes.delete(uid);
  }
}

/** Reads and validates the node's spec. An invalid spec fails without retry: only an edit can fix it. */
export async function readSymbolNodeFrom(kube: KubeClients, known: KnownNodes, ref: NodeRef): Promise<ValidNode> {
  const node = await getNode(kube, ref);
  known.set(node);
  const parsed = parseSymbolNode(node);
  if (!parsed.ok) {
    throw ApplicationFailure.create({
      type: 'InvalidSpec',
      nonRetryable: true,
      message: parsed.message,
      details: [parsed.reason],
    });
  }
  return { generation: node.metadata?.generation ?? 1, spec: parsed.node.spec };
}

/**
 * Updates status conditions and public fields with optimistic concurrency (resourceVersion), and
 * records the Event, if any. Safe to retry: conditions are set, not appended.
 */
export async function reportNodeStatusTo(
  kube: KubeClients,
  known: KnownNodes,
  ref: NodeRef,
  report: StatusReport,
): Promise<void> {
  await Promise.all([
    updateStatus(kube, known, ref, report),
    report.event ? recordNodeEvent(kube, ref, report.event) : undefined,
    ...(report.moreEvents ?? []).map((event) => recordNodeEvent(kube, ref, event)),
  ]);
}

async function updateStatus(kube: KubeClients, known: KnownNodes, ref: NodeRef, report: StatusReport): Promise<void> {
  let node = known.get(ref.uid) ?? (await getNode(kube, ref));
  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    let conditions = node.status?.conditions ?? [];
    for (const update of report.conditions) conditions = setCondition(conditions, update, report.generation, now);
    const status = {
      ...node.status,
      ...report.fields,
      observedGeneration: Math.max(report.generation, node.status?.observedGeneration ?? 0),
      conditions,
      phase: computePhase({ conditions, paused: node.spec?.paused === true }),
    };
    try {
      const written = (await kube.custom.replaceNamespacedCustomObjectStatus({
        ...api,
        namespace: ref.namespace,
        name: ref.name,
        body: { ...node, status },
      })) as SymbolNode;
      known.set(written);
      return;
    } catch (error) {
      if (isNotFound(error)) {
        known.forget(ref.uid);
        throw nodeGone(ref);
      }
      if (!isConflict(error) || attempt >= 5) throw error;
      node = await getNode(kube, ref);
      known.set(node);
    }
  }
}
