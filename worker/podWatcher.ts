import type * as k8s from '@kubernetes/client-node';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CachedInformer } from '../k8s/cache.js';
import { LABEL_INSTANCE } from '../k8s/symbolNode.js';
import {
  lifecycleStateQuery,
  nodeLifecycleWorkflowId,
  podHealthSignal,
  type PodHealthReport,
} from '../workflows/nodeLifecycle.js';
import { classifyPod, problemKey, restartCounts, summarise } from '../workflows/remediation/index.js';
import { LatestPerKey } from './latestPerKey.js';
import { createLogger, type Logger } from './log.js';
import { reportsDiffer, ReportResync } from './podResync.js';
import { TEMPORAL_CALL_TIMEOUT_MS } from './watcher.js';

export interface PodWatcherOptions {
  /** The nodes' pods and the Kubernetes Nodes, from the operator's Kubernetes cache. */
  pods: CachedInformer<k8s.V1Pod>;
  kubernetesNodes: CachedInformer<k8s.V1Node>;
  client: Client;
  /** The SymbolNode uid for a node name, from the SymbolNode watcher's cache (lifecycle IDs contain it). */
  uidOf: (namespace: string, name: string) => string | undefined;
  /** Starts the node's lifecycle again (signal-with-start) when a report finds none running; false: no such node. */
  reassert: (namespace: string, name: string) => Promise<boolean>;
  /** Every this often each pod is compared with what its lifecycle recorded, and re-reported (default 60 s). */
  resyncMs?: number;
  /** Lifecycle queries at once during a resync. */
  resyncConcurrency?: number;
  /** A pod on a Kubernetes node NotReady this long is lost (default 60 s). */
  lostNodeGraceMs?: number;
  /** Unset: JSON events on stdout, or to `log`. */
  logger?: Logger;
  /** Where the JSON lines go when no `logger` is given. */
  log?: (line: string) => void;
}

function isPodReady(pod: k8s.V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function readyCondition(node: k8s.V1Node | undefined): k8s.V1NodeCondition | undefined {
  return node?.status?.conditions?.find((c) => c.type === 'Ready');
}

/**
 * Watches the pods of every SymbolNode, classifies what is wrong with them and tells the node's
 * lifecycle workflow, which records it (Degraded condition, Event). Only changes are sent: the
 * same problems seen again on every status update are not news.
 */
export class NodePodWatcher {
  private readonly informer: CachedInformer<k8s.V1Pod>;
  private readonly nodeInformer: CachedInformer<k8s.V1Node>;
  private readonly resyncs: ReportResync;
  /** Re-checks of the pods on a NotReady Kubernetes node once its grace period is over. */
  private readonly lostNodeTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastReported = new Map<string, string>();
  private readonly restarts = new Map<string, Record<string, number>>();
  private stopped = false;
  private resyncTimer?: NodeJS.Timeout;
  /** One report in flight per pod, the newest next: two racing signals could land out of order. */
  private readonly reports = new LatestPerKey();
  private readonly log: Logger;

  constructor(private readonly options: PodWatcherOptions) {
    this.log =
      options.logger ?? createLogger({ ...(options.log ? { sink: options.log } : {}) }).child({ component: 'pods' });
    this.informer = options.pods;
    this.nodeInformer = options.kubernetesNodes;
    this.resyncs = new ReportResync(options.resyncConcurrency ?? 8);
  }

  async start(): Promise<void> {
    this.informer.on('add', (pod) => this.onPod(pod));
    this.informer.on('update', (pod) => this.onPod(pod));
    this.informer.on('delete', (pod) => this.forget(pod));
    await this.startNodeInformer();
    await this.informer.start();
    this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncMs ?? 60_000);
  }

  /** Kubernetes nodes' readiness: a pod on a node that stopped being Ready is re-judged, now and after the grace. */
  private async startNodeInformer(): Promise<void> {
    const informer = this.nodeInformer;
    const onNode = (node: k8s.V1Node) => {
      const name = node.metadata?.name;
      if (!name) return;
      clearTimeout(this.lostNodeTimers.get(name));
      this.lostNodeTimers.delete(name);
      const condition = readyCondition(node);
      if (condition?.status !== 'True') {
        const since = condition?.lastTransitionTime ? new Date(condition.lastTransitionTime).getTime() : Date.now();
        const due = Math.max(0, since + this.lostNodeGraceMs - Date.now()) + 50;
        this.lostNodeTimers.set(
          name,
          setTimeout(() => this.reclassifyPodsOn(name), due),
        );
      }
      this.reclassifyPodsOn(name);
    };
    informer.on('add', onNode);
    informer.on('update', onNode);
    await informer.start();
  }

  private get lostNodeGraceMs(): number {
    return this.options.lostNodeGraceMs ?? 60_000;
  }

  private reclassifyPodsOn(nodeName: string): void {
    if (this.stopped) return;
    for (const pod of this.informer.list()) if (pod.spec?.nodeName === nodeName) this.onPod(pod);
  }

  private kubernetesNodeReady(name: string): boolean | undefined {
    const status = readyCondition(this.nodeInformer.get('', name))?.status;
    return status === 'True' ? true : status === 'False' ? false : undefined;
  }

  private kubernetesNodeNotReadySince(name: string): Date | undefined {
    const condition = readyCondition(this.nodeInformer.get('', name));
    if (!condition || condition.status === 'True') return undefined;
    return condition.lastTransitionTime ? new Date(condition.lastTransitionTime) : undefined;
  }

  /** True once both informers (the nodes' pods, the Kubernetes nodes) have listed what they watch. */
  synced(): boolean {
    return this.informer.synced() && this.nodeInformer.synced();
  }

  /** Resolves once no signal is in flight any more: the Temporal connection may then be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    for (const timer of this.lostNodeTimers.values()) clearTimeout(timer);
    await this.resyncs.idle();
    await this.reports.idle();
  }

  private forget(pod: k8s.V1Pod): void {
    this.lastReported.delete(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    this.restarts.delete(pod.metadata?.uid ?? '');
  }

  private onPod(pod: k8s.V1Pod): void {
    if (this.stopped) return;
    const assessed = this.assess(pod, true);
    if (!assessed) return;
    const { id, key } = assessed;
    if (this.lastReported.get(id) === key) return;
    this.send(assessed);
  }

  /**
   * Reports are sent on change only, so one lost or unprocessed signal would leave the lifecycle's record wrong
   * until the pod changes again: every pod is compared with what its lifecycle recorded (its `state` query), and
   * re-reported where they differ. Bounded: a few queries at once, a pass at a time.
   */
  async resync(): Promise<void> {
    await this.resyncs.pass(this.informer.list(), async (pod) => {
      if (this.stopped) return;
      const assessed = this.assess(pod, false);
      if (!assessed) return;
      const handle = this.options.client.workflow.getHandle(assessed.workflowId);
      const recorded = await this.options.client.connection
        .withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () => handle.query(lifecycleStateQuery))
        .then(
          (state) => state.podHealth,
          (error: unknown) => (error instanceof WorkflowNotFoundError ? null : undefined),
        );
      // undefined: the query failed (a busy worker); next pass. null: no lifecycle, which the report then restarts.
      if (recorded === undefined || this.stopped) return;
      if (recorded !== null && !reportsDiffer(assessed.report, recorded)) return;
      this.log.info("the lifecycle's record differs from the pod; reporting it again", { pod: assessed.id });
      this.send(assessed);
    });
  }

  /** The pod's report as it is now; `changed`: from an event (its restart counts are news next time). */
  private assess(pod: k8s.V1Pod, changed: boolean): Assessed | undefined {
    const namespace = pod.metadata?.namespace;
    const node = pod.metadata?.labels?.[LABEL_INSTANCE];
    if (!namespace || !node) return undefined;
    const uid = this.options.uidOf(namespace, node);
    if (!uid) return undefined;
    const id = `${namespace}/${pod.metadata?.name}`;
    const podUid = pod.metadata?.uid ?? '';
    const problems = classifyPod(pod, {
      now: new Date(),
      // Restart counts are per pod (uid): a replacement of the same name starts from its own.
      previousRestarts: this.restarts.get(podUid) ?? (changed ? {} : restartCounts(pod)),
      nodeReady: (name) => this.kubernetesNodeReady(name),
      nodeNotReadySince: (name) => this.kubernetesNodeNotReadySince(name),
      lostNodeGraceMs: this.lostNodeGraceMs,
    });
    if (changed) this.restarts.set(podUid, restartCounts(pod));
    const summary = summarise(problems);
    const podReady = isPodReady(pod);
    // An unclean stop is news even when the problem's key stays: e.g. a peer's server that was OOM-killed while
    // repairing itself in place, then fails its restart too (CrashLoopBackOff), now needs the operator's recovery.
    const key = `${podReady}|${problems
      .map((p) => `${problemKey(p)}${p.uncleanStop ? '/unclean' : ''}`)
      .sort()
      .join(',')}`;
    const podIdentity = { pod: pod.metadata?.name ?? '', podUid: pod.metadata?.uid ?? '' };
    const report: PodHealthReport = summary
      ? {
          ...podIdentity,
          podReady,
          problem: {
            kind: summary.problem.kind,
            kinds: [...new Set(problems.map((p) => p.kind))],
            reason: summary.condition.reason,
            message: summary.condition.message,
            uncleanStop: summary.problem.uncleanStop,
            remediable: summary.problem.remediable,
          },
        }
      : { ...podIdentity, podReady };
    const workflowId = nodeLifecycleWorkflowId({ namespace, name: node, uid });
    return { id, key, namespace, node, podName: pod.metadata?.name ?? '', workflowId, report };
  }

  private send(assessed: Assessed): void {
    const { id, key, namespace, node, podName, workflowId, report } = assessed;
    this.lastReported.set(id, key);
    const { client } = this.options;
    // Report the pod as it is by then, unless a newer report went out meanwhile.
    const again = (delayMs: number) =>
      setTimeout(() => {
        if (this.stopped || this.lastReported.get(id) !== key) return;
        this.lastReported.delete(id);
        const current = this.informer.get(namespace, podName);
        if (current) this.onPod(current);
      }, delayMs);
    const send = (): Promise<void> =>
      client.connection
        .withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
          client.workflow.getHandle(workflowId).signal(podHealthSignal, report),
        )
        .catch(async (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) {
            // Its lifecycle ended (failed, terminated): the node must not stay unmanaged. Start it, then report.
            const restarted = await this.options.reassert(namespace, node).catch((failure: unknown) => {
              this.log.warn('could not restart the lifecycle', {
                node: `${namespace}/${node}`,
                workflowId,
                error: describe(failure),
              });
              return true;
            });
            if (restarted) again(1000);
            return;
          }
          this.log.warn('could not report the pod; retrying', {
            pod: id,
            node: `${namespace}/${node}`,
            workflowId,
            error: describe(error),
          });
          again(1000);
        });
    this.reports.submit(id, send);
  }
}

interface Assessed {
  /** `<namespace>/<pod name>`: reports are ordered per pod name. */
  id: string;
  /** What a report says, to skip repeats. */
  key: string;
  namespace: string;
  /** The SymbolNode's name. */
  node: string;
  podName: string;
  workflowId: string;
  report: PodHealthReport;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
