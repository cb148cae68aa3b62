import * as k8s from '@kubernetes/client-node';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { restartOnError } from '../k8s/client.js';
import { LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGER_NAME } from '../k8s/symbolNode.js';
import { nodeLifecycleWorkflowId, podHealthSignal, type PodHealthReport } from '../workflows/nodeLifecycle.js';
import { classifyPod, problemKey, restartCounts, summarise } from '../workflows/remediation/index.js';
import { LatestPerKey } from './latestPerKey.js';
import { informerSynced } from './watcher.js';

export interface PodWatcherOptions {
  kubeConfig: k8s.KubeConfig;
  client: Client;
  /** The SymbolNode uid for a node name, from the SymbolNode watcher's cache (lifecycle IDs contain it). */
  uidOf: (namespace: string, name: string) => string | undefined;
  namespace?: string;
  /** A pod on a Kubernetes node NotReady this long is lost (default 60 s). */
  lostNodeGraceMs?: number;
  log?: (message: string) => void;
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
  private informer?: k8s.Informer<k8s.V1Pod> & k8s.ObjectCache<k8s.V1Pod>;
  private nodeInformer?: k8s.Informer<k8s.V1Node> & k8s.ObjectCache<k8s.V1Node>;
  /** Re-checks of the pods on a NotReady Kubernetes node once its grace period is over. */
  private readonly lostNodeTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastReported = new Map<string, string>();
  private readonly restarts = new Map<string, Record<string, number>>();
  private stopped = false;
  /** One report in flight per pod, the newest next: two racing signals could land out of order. */
  private readonly reports = new LatestPerKey();
  private readonly log: (message: string) => void;

  constructor(private readonly options: PodWatcherOptions) {
    this.log = options.log ?? ((message) => console.log(`[pods] ${message}`));
  }

  async start(): Promise<void> {
    const { kubeConfig, namespace } = this.options;
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    // Recovery Jobs' pods share the volume but not the node's health: only the StatefulSet's pods count.
    const labelSelector = `${LABEL_MANAGED_BY}=${MANAGER_NAME},${LABEL_COMPONENT}=node`;
    const path = namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods';
    const list = () =>
      namespace
        ? core.listNamespacedPod({ namespace, labelSelector })
        : core.listPodForAllNamespaces({ labelSelector });
    const informer = k8s.makeInformer<k8s.V1Pod>(kubeConfig, path, list, labelSelector);
    informer.on('add', (pod) => this.onPod(pod));
    informer.on('update', (pod) => this.onPod(pod));
    informer.on('delete', (pod) => this.forget(pod));
    restartOnError(informer, () => this.stopped);
    this.informer = informer;
    await this.startNodeInformer(kubeConfig);
    await informer.start();
  }

  /** Kubernetes nodes' readiness: a pod on a node that stopped being Ready is re-judged, now and after the grace. */
  private async startNodeInformer(kubeConfig: k8s.KubeConfig): Promise<void> {
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer<k8s.V1Node>(kubeConfig, '/api/v1/nodes', () => core.listNode());
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
    restartOnError(informer, () => this.stopped);
    this.nodeInformer = informer;
    await informer.start();
  }

  private get lostNodeGraceMs(): number {
    return this.options.lostNodeGraceMs ?? 60_000;
  }

  private reclassifyPodsOn(nodeName: string): void {
    if (this.stopped) return;
    for (const pod of this.informer?.list() ?? []) if (pod.spec?.nodeName === nodeName) this.onPod(pod);
  }

  private kubernetesNodeReady(name: string): boolean | undefined {
    const status = readyCondition(this.nodeInformer?.get(name))?.status;
    return status === 'True' ? true : status === 'False' ? false : undefined;
  }

  private kubernetesNodeNotReadySince(name: string): Date | undefined {
    const condition = readyCondition(this.nodeInformer?.get(name));
    if (!condition || condition.status === 'True') return undefined;
    return condition.lastTransitionTime ? new Date(condition.lastTransitionTime) : undefined;
  }

  /** True once both informers (the nodes' pods, the Kubernetes nodes) have listed what they watch. */
  synced(): boolean {
    return informerSynced(this.informer) && informerSynced(this.nodeInformer);
  }

  /** Resolves once no signal is in flight any more: the Temporal connection may then be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.lostNodeTimers.values()) clearTimeout(timer);
    await this.informer?.stop();
    await this.nodeInformer?.stop();
    await this.reports.idle();
  }

  private forget(pod: k8s.V1Pod): void {
    const id = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    this.lastReported.delete(id);
    this.restarts.delete(id);
  }

  private onPod(pod: k8s.V1Pod): void {
    if (this.stopped) return;
    const namespace = pod.metadata?.namespace;
    const node = pod.metadata?.labels?.[LABEL_INSTANCE];
    if (!namespace || !node) return;
    const uid = this.options.uidOf(namespace, node);
    if (!uid) return;
    const id = `${namespace}/${pod.metadata?.name}`;
    const problems = classifyPod(pod, {
      now: new Date(),
      previousRestarts: this.restarts.get(id) ?? {},
      nodeReady: (name) => this.kubernetesNodeReady(name),
      nodeNotReadySince: (name) => this.kubernetesNodeNotReadySince(name),
      lostNodeGraceMs: this.lostNodeGraceMs,
    });
    this.restarts.set(id, restartCounts(pod));
    const summary = summarise(problems);
    const podReady = isPodReady(pod);
    // An unclean stop is news even when the problem's key stays: e.g. a peer's server that was OOM-killed while
    // repairing itself in place, then fails its restart too (CrashLoopBackOff), now needs the operator's recovery.
    const key = `${podReady}|${problems
      .map((p) => `${problemKey(p)}${p.uncleanStop ? '/unclean' : ''}`)
      .sort()
      .join(',')}`;
    if (this.lastReported.get(id) === key) return;
    this.lastReported.set(id, key);
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
    const send = (): Promise<void> =>
      this.options.client.workflow
        .getHandle(workflowId)
        .signal(podHealthSignal, report)
        .catch((error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return;
          this.log(`could not report pod ${id}: ${error instanceof Error ? error.message : String(error)}; retrying`);
          // Report the pod as it is by then, unless a newer report went out meanwhile.
          setTimeout(() => {
            if (this.stopped || this.lastReported.get(id) !== key) return;
            this.lastReported.delete(id);
            const current = this.informer?.get(pod.metadata?.name ?? '', namespace);
            if (current) this.onPod(current);
          }, 1000);
        });
    this.reports.submit(id, send);
  }
}
