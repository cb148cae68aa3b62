import * as k8s from '@kubernetes/client-node';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { NodeRef } from '../activities/types.js';
import { restartOnError } from '../k8s/client.js';
import { symbolNodeGroup, symbolNodePlural, symbolNodeVersion, type SymbolNode } from '../k8s/symbolNode.js';
import {
  nodeDeletedSignal,
  nodeLifecycle,
  nodeLifecycleWorkflowId,
  reconcileSignal,
} from '../workflows/nodeLifecycle.js';
import {
  kubernetesNamespaceKey,
  nodeActionKey,
  symbolNetworkKey,
  symbolNodeKey,
} from '../workflows/searchAttributes.js';
import type { RemediationPolicy } from '../workflows/remediation/policy.js';

export interface WatcherOptions {
  kubeConfig: k8s.KubeConfig;
  client: Client;
  taskQueue: string;
  /** Unset: all namespaces. */
  namespace?: string;
  /** Signals in flight at once: bounds the burst when thousands of nodes are listed at start. */
  maxInFlight?: number;
  /** Passed to new lifecycle workflows: first retry delay after a failure fixed outside the spec. */
  retryFailedAfterMs?: number;
  /** Passed to new lifecycle workflows: overrides of the default remediation policy. */
  remediation?: Partial<RemediationPolicy>;
  log?: (message: string) => void;
}

type PendingWork =
  { kind: 'reconcile'; ref: NodeRef; generation: number; network: string } | { kind: 'deleted'; ref: NodeRef };

/**
 * Informer on SymbolNodes that turns spec changes into signals to each node's lifecycle workflow.
 * It holds no state that matters: the workflow ID is derived from the node, signal-with-start is
 * idempotent and the workflow ignores generations it has handled, so resyncs, restarts and a second
 * watcher replica never run the same work twice.
 */
export class SymbolNodeWatcher {
  private readonly signalled = new Map<string, number>();
  private readonly queue = new Map<string, PendingWork>();
  private inFlight = 0;
  private readonly deliveries = new Set<Promise<unknown>>();
  private informer?: k8s.Informer<SymbolNode> & k8s.ObjectCache<SymbolNode>;
  private stopped = false;
  private readonly log: (message: string) => void;

  constructor(private readonly options: WatcherOptions) {
    this.log = options.log ?? ((message) => console.log(`[watcher] ${message}`));
  }

  async start(): Promise<void> {
    const { kubeConfig, namespace } = this.options;
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const base = `/apis/${symbolNodeGroup}/${symbolNodeVersion}`;
    const path = namespace ? `${base}/namespaces/${namespace}/${symbolNodePlural}` : `${base}/${symbolNodePlural}`;
    const list = async (): Promise<k8s.KubernetesListObject<SymbolNode>> =>
      (namespace
        ? await custom.listNamespacedCustomObject({
            group: symbolNodeGroup,
            version: symbolNodeVersion,
            plural: symbolNodePlural,
            namespace,
          })
        : await custom.listClusterCustomObject({
            group: symbolNodeGroup,
            version: symbolNodeVersion,
            plural: symbolNodePlural,
          })) as k8s.KubernetesListObject<SymbolNode>;
    const informer = k8s.makeInformer<SymbolNode>(kubeConfig, path, list);
    informer.on('add', (node) => this.onChange(node));
    informer.on('update', (node) => this.onChange(node));
    informer.on('delete', (node) => this.onDelete(node));
    restartOnError(
      informer,
      () => this.stopped,
      (error) => this.log(`watch failed (${error instanceof Error ? error.message : String(error)}); restarting in 1s`),
    );
    this.informer = informer;
    await informer.start();
  }

  /** Resolves once no signal is in flight any more: the Temporal connection may then be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
    await Promise.allSettled([...this.deliveries]);
  }

  /** True once the informer has listed the SymbolNodes; false while a list fails (e.g. RBAC, API server down). */
  synced(): boolean {
    return informerSynced(this.informer);
  }

  /** The uid of a watched SymbolNode, from the informer's cache. */
  uidOf(namespace: string, name: string): string | undefined {
    return this.informer?.get(name, namespace)?.metadata?.uid;
  }

  private onChange(node: SymbolNode): void {
    const ref = refOf(node);
    if (!ref) return;
    // Deletion sets deletionTimestamp, which bumps the generation of a custom resource: not a spec
    // change to provision, but the end of the node (owner references clean up the rest).
    if (node.metadata?.deletionTimestamp) return this.onDelete(node);
    const generation = node.metadata?.generation ?? 1;
    // Our own status updates arrive here too; they do not change the generation.
    if (this.signalled.get(ref.uid) === generation && (node.status?.observedGeneration ?? 0) >= generation) return;
    this.enqueue({ kind: 'reconcile', ref, generation, network: node.spec?.network ?? 'unknown' });
  }

  private onDelete(node: SymbolNode): void {
    const ref = refOf(node);
    if (!ref) return;
    this.signalled.delete(ref.uid);
    this.enqueue({ kind: 'deleted', ref });
  }

  private enqueue(work: PendingWork): void {
    // Coalesce: only the newest work per node matters.
    this.queue.set(work.ref.uid, work);
    this.drain();
  }

  private drain(): void {
    if (this.stopped) return;
    const maxInFlight = this.options.maxInFlight ?? 64;
    while (this.inFlight < maxInFlight && this.queue.size > 0) {
      const [uid, work] = this.queue.entries().next().value as [string, PendingWork];
      this.queue.delete(uid);
      this.inFlight++;
      const delivery = this.deliver(work)
        .catch((error: unknown) => {
          this.log(
            `could not signal ${work.ref.namespace}/${work.ref.name}: ${error instanceof Error ? error.message : String(error)}; retrying`,
          );
          setTimeout(() => {
            if (!this.stopped && !this.queue.has(uid)) this.enqueue(work);
          }, 1000);
        })
        .finally(() => {
          this.inFlight--;
          this.deliveries.delete(delivery);
          this.drain();
        });
      this.deliveries.add(delivery);
    }
  }

  private async deliver(work: PendingWork): Promise<void> {
    const workflowId = nodeLifecycleWorkflowId(work.ref);
    if (work.kind === 'deleted') {
      try {
        await this.options.client.workflow.getHandle(workflowId).signal(nodeDeletedSignal);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      return;
    }
    await this.options.client.workflow.signalWithStart(nodeLifecycle, {
      workflowId,
      taskQueue: this.options.taskQueue,
      args: [
        {
          ref: work.ref,
          network: work.network,
          ...(this.options.retryFailedAfterMs ? { retryFailedAfterMs: this.options.retryFailedAfterMs } : {}),
          ...(this.options.remediation ? { remediation: this.options.remediation } : {}),
        },
      ],
      signal: reconcileSignal,
      signalArgs: [{ generation: work.generation }],
      typedSearchAttributes: [
        { key: symbolNodeKey, value: `${work.ref.namespace}/${work.ref.name}` },
        { key: kubernetesNamespaceKey, value: work.ref.namespace },
        { key: symbolNetworkKey, value: work.network },
        { key: nodeActionKey, value: 'lifecycle' },
      ],
    });
    this.signalled.set(work.ref.uid, work.generation);
  }
}

function refOf(node: SymbolNode): NodeRef | undefined {
  const { namespace, name, uid } = node.metadata ?? {};
  return namespace && name && uid ? { namespace, name, uid } : undefined;
}

/** makeInformer returns a ListWatch, whose resource version is set by its first successful list (and reset on 410 Gone). */
export function informerSynced(informer: k8s.Informer<k8s.KubernetesObject> | undefined): boolean {
  return Boolean(
    (
      informer as Partial<Pick<k8s.ListWatch<k8s.KubernetesObject>, 'latestResourceVersion'>>
    )?.latestResourceVersion?.(),
  );
}
