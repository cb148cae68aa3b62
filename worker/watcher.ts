import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { NodeRef } from '../activities/types.js';
import type { CachedInformer } from '../k8s/cache.js';
import type { SymbolNode } from '../k8s/symbolNode.js';
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
import { createLogger, type Logger } from './log.js';

export interface WatcherOptions {
  /** The SymbolNodes of the operator's Kubernetes cache. */
  symbolNodes: CachedInformer<SymbolNode>;
  client: Client;
  taskQueue: string;
  /** Every this often every node's lifecycle is re-asserted (default 5 min). */
  resyncMs?: number;
  /** Signals in flight at once: bounds the burst when thousands of nodes are listed at start. */
  maxInFlight?: number;
  /** Passed to new lifecycle workflows: first retry delay after a failure fixed outside the spec. */
  retryFailedAfterMs?: number;
  /** Passed to new lifecycle workflows: overrides of the default remediation policy. */
  remediation?: Partial<RemediationPolicy>;
  /** Unset: JSON events on stdout, or to `log`. */
  logger?: Logger;
  /** Where the JSON lines go when no `logger` is given. */
  log?: (line: string) => void;
}

type PendingWork =
  | {
      kind: 'reconcile';
      ref: NodeRef;
      generation: number;
      network: string;
      /** A resync's re-assertion: a lifecycle that runs is left alone (no history grows on an idle node). */
      unlessRunning?: boolean;
    }
  | { kind: 'deleted'; ref: NodeRef };

/** A signal or start that takes longer failed: a retry follows, and a hung call never holds a node's queue. */
export const TEMPORAL_CALL_TIMEOUT_MS = 30_000;

/**
 * Turns SymbolNode changes into signals to each node's lifecycle workflow, and re-asserts every lifecycle on
 * resync, so that a node whose lifecycle ended (failed, terminated by hand) is managed again.
 * It holds no state that matters: the workflow ID is derived from the node, signal-with-start is
 * idempotent and the workflow ignores generations it has handled, so resyncs, restarts and a second
 * watcher replica never run the same work twice.
 */
export class SymbolNodeWatcher {
  private readonly signalled = new Map<string, number>();
  private readonly queue = new Map<string, PendingWork>();
  private inFlight = 0;
  private readonly deliveries = new Set<Promise<unknown>>();
  private resyncTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly options: WatcherOptions) {
    this.log =
      options.logger ?? createLogger({ ...(options.log ? { sink: options.log } : {}) }).child({ component: 'watcher' });
  }

  async start(): Promise<void> {
    const { symbolNodes } = this.options;
    symbolNodes.on('add', (node) => this.onChange(node));
    symbolNodes.on('update', (node) => this.onChange(node));
    symbolNodes.on('delete', (node) => this.onDelete(node));
    await symbolNodes.start();
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs ?? 5 * 60_000);
  }

  /** Resolves once no signal is in flight any more: the Temporal connection may then be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    await Promise.allSettled([...this.deliveries]);
  }

  /** True once the SymbolNodes were listed. */
  synced(): boolean {
    return this.options.symbolNodes.synced();
  }

  /** Every watched node's lifecycle is started again unless it runs. */
  resync(): void {
    for (const node of this.options.symbolNodes.list()) {
      const ref = refOf(node);
      if (!ref || node.metadata?.deletionTimestamp) continue;
      this.enqueue({ ...reconcileWork(node, ref), unlessRunning: true });
    }
  }

  /**
   * Signal-with-start of the node's lifecycle now, e.g. after a signal found no running lifecycle; resolves once it
   * runs (false: the node is not, or no longer, in the cache).
   */
  async reassert(namespace: string, name: string): Promise<boolean> {
    const node = this.options.symbolNodes.get(namespace, name);
    const ref = node && refOf(node);
    if (!node || !ref || node.metadata?.deletionTimestamp || this.stopped) return false;
    this.log.warn('the lifecycle was not running; starting it again', { node: `${namespace}/${name}` });
    await this.deliver(reconcileWork(node, ref));
    return true;
  }

  /** The uid of a watched SymbolNode, from the cache. */
  uidOf(namespace: string, name: string): string | undefined {
    return this.options.symbolNodes.get(namespace, name)?.metadata?.uid;
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
    this.enqueue(reconcileWork(node, ref));
  }

  private onDelete(node: SymbolNode): void {
    const ref = refOf(node);
    if (!ref) return;
    this.signalled.delete(ref.uid);
    this.enqueue({ kind: 'deleted', ref });
  }

  private enqueue(work: PendingWork): void {
    // Coalesce: only the newest work per node matters; a resync's adds nothing to work already queued.
    if (work.kind === 'reconcile' && work.unlessRunning && this.queue.has(work.ref.uid)) return;
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
          this.log.warn('could not signal the lifecycle; retrying', {
            node: `${work.ref.namespace}/${work.ref.name}`,
            error,
          });
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

  private deliver(work: PendingWork): Promise<void> {
    const { connection } = this.options.client;
    return connection.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () => this.send(work));
  }

  private async send(work: PendingWork): Promise<void> {
    const workflowId = nodeLifecycleWorkflowId(work.ref);
    const handle = this.options.client.workflow.getHandle(workflowId);
    if (work.kind === 'deleted') {
      try {
        await handle.signal(nodeDeletedSignal);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      return;
    }
    if (work.unlessRunning) {
      // A describe reads the execution; a signal would add to the history of every idle node on every resync.
      const running = await handle.describe().then(
        (description) => description.status.name === 'RUNNING',
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        },
      );
      if (running) return;
      this.log.warn('the lifecycle was not running; starting it again', {
        node: `${work.ref.namespace}/${work.ref.name}`,
        workflowId,
      });
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

function reconcileWork(node: SymbolNode, ref: NodeRef): PendingWork & { kind: 'reconcile' } {
  return {
    kind: 'reconcile',
    ref,
    generation: node.metadata?.generation ?? 1,
    network: node.spec?.network ?? 'unknown',
  };
}

function refOf(node: SymbolNode): NodeRef | undefined {
  const { namespace, name, uid } = node.metadata ?? {};
  return namespace && name && uid ? { namespace, name, uid } : undefined;
}
