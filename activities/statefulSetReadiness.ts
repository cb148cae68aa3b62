import * as k8s from '@kubernetes/client-node';
import { restartOnError } from '../k8s/client.js';
import { LABEL_MANAGED_BY, MANAGER_NAME } from '../k8s/symbolNode.js';

type Listener = (sts: k8s.V1StatefulSet) => void;

export function isRolledOutAndReady(sts: k8s.V1StatefulSet | undefined): boolean {
  const status = sts?.status;
  return (
    status !== undefined &&
    status.observedGeneration === sts?.metadata?.generation &&
    status.updateRevision === status.currentRevision &&
    (status.readyReplicas ?? 0) >= 1
  );
}

export function describeRollout(sts: k8s.V1StatefulSet | undefined): string {
  const status = sts?.status;
  return `${status?.readyReplicas ?? 0}/1 ready, revision ${status?.currentRevision ?? '-'} → ${status?.updateRevision ?? '-'}`;
}

/**
 * One watch on the operator's StatefulSets, shared by every readiness wait in this worker. Waiting
 * for a thousand nodes then costs the API server one watch rather than a poll per node.
 */
export class StatefulSetReadiness {
  private informer?: k8s.Informer<k8s.V1StatefulSet> & k8s.ObjectCache<k8s.V1StatefulSet>;
  private starting?: Promise<void>;
  private readonly listeners = new Map<string, Set<Listener>>();
  private stopped = false;

  constructor(private readonly kubeConfig: k8s.KubeConfig) {}

  private start(): Promise<void> {
    this.starting ??= (async () => {
      const apps = this.kubeConfig.makeApiClient(k8s.AppsV1Api);
      const labelSelector = `${LABEL_MANAGED_BY}=${MANAGER_NAME}`;
      const informer = k8s.makeInformer<k8s.V1StatefulSet>(
        this.kubeConfig,
        '/apis/apps/v1/statefulsets',
        () => apps.listStatefulSetForAllNamespaces({ labelSelector }),
        labelSelector,
      );
      const notify = (sts: k8s.V1StatefulSet): void => {
        for (const listener of this.listeners.get(key(sts.metadata?.namespace, sts.metadata?.name)) ?? [])
          listener(sts);
      };
      informer.on('add', notify);
      informer.on('update', notify);
      restartOnError(informer, () => this.stopped);
      this.informer = informer;
      await informer.start();
    })();
    this.starting.catch(() => (this.starting = undefined));
    return this.starting;
  }

  /** The cached object (after the first wait started the watch). */
  get(namespace: string, name: string): k8s.V1StatefulSet | undefined {
    return this.informer?.get(name, namespace);
  }

  /**
   * Resolves true once the StatefulSet is rolled out and Ready, false after `timeoutMs` or when `signal` aborts
   * (the wait then leaves no timer behind). `onProgress` receives every change, for heartbeats.
   */
  async waitUntilReady(
    namespace: string,
    name: string,
    timeoutMs: number,
    options: { onProgress?: Listener; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const { onProgress, signal } = options;
    await this.start();
    if (isRolledOutAndReady(this.get(namespace, name))) return true;
    const id = key(namespace, name);
    return new Promise<boolean>((resolve) => {
      const listeners = this.listeners.get(id) ?? new Set<Listener>();
      this.listeners.set(id, listeners);
      const done = (ready: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        listeners.delete(listener);
        if (listeners.size === 0) this.listeners.delete(id);
        resolve(ready);
      };
      const listener: Listener = (sts) => {
        onProgress?.(sts);
        if (isRolledOutAndReady(sts)) done(true);
      };
      const timer = setTimeout(() => done(isRolledOutAndReady(this.get(namespace, name))), timeoutMs);
      const aborted = (): void => done(false);
      signal?.addEventListener('abort', aborted);
      listeners.add(listener);
      if (signal?.aborted) done(false);
      // The cache may have changed between the first check and the subscription.
      if (isRolledOutAndReady(this.get(namespace, name))) done(true);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
  }
}

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}
