import * as k8s from '@kubernetes/client-node';
import { restartOnError } from '../k8s/client.js';
import { LABEL_MANAGED_BY, MANAGER_NAME } from '../k8s/symbolNode.js';

type Listener<T> = (object: T | undefined) => void;

/** The collection of the operator's objects of one kind: in one namespace, or across all when it is unset. */
export interface WatchedKind<T extends k8s.KubernetesObject> {
  path: (namespace: string | undefined) => string;
  list: (
    kubeConfig: k8s.KubeConfig,
    labelSelector: string,
    namespace: string | undefined,
  ) => Promise<k8s.KubernetesListObject<T>>;
}

// A namespace-scoped install may list and watch only its namespace (its Role): the watch follows the operator's.
export const statefulSetsKind: WatchedKind<k8s.V1StatefulSet> = {
  path: (namespace) =>
    namespace ? `/apis/apps/v1/namespaces/${namespace}/statefulsets` : '/apis/apps/v1/statefulsets',
  list: (kc, labelSelector, namespace) => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    return namespace
      ? apps.listNamespacedStatefulSet({ namespace, labelSelector })
      : apps.listStatefulSetForAllNamespaces({ labelSelector });
  },
};

export const jobsKind: WatchedKind<k8s.V1Job> = {
  path: (namespace) => (namespace ? `/apis/batch/v1/namespaces/${namespace}/jobs` : '/apis/batch/v1/jobs'),
  list: (kc, labelSelector, namespace) => {
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    return namespace
      ? batch.listNamespacedJob({ namespace, labelSelector })
      : batch.listJobForAllNamespaces({ labelSelector });
  },
};

/**
 * One watch on the operator's objects of a kind, shared by every wait in this worker: waiting on a thousand
 * nodes costs the API server one watch, not a poll per node. Started by the first wait, stopped by the owner.
 */
export class SharedWatch<T extends k8s.KubernetesObject> {
  private informer?: k8s.Informer<T> & k8s.ObjectCache<T>;
  private starting?: Promise<void>;
  private readonly listeners = new Map<string, Set<Listener<T>>>();
  private stopped = false;

  constructor(
    private readonly kubeConfig: k8s.KubeConfig,
    private readonly kind: WatchedKind<T>,
    /** Unset: all namespaces. */
    private readonly namespace?: string,
  ) {}

  private start(): Promise<void> {
    this.starting ??= (async () => {
      const labelSelector = `${LABEL_MANAGED_BY}=${MANAGER_NAME}`;
      const informer = k8s.makeInformer<T>(
        this.kubeConfig,
        this.kind.path(this.namespace),
        () => this.kind.list(this.kubeConfig, labelSelector, this.namespace),
        labelSelector,
      );
      const notify = (object: T, gone = false): void => {
        for (const listener of this.listeners.get(key(object.metadata?.namespace, object.metadata?.name)) ?? [])
          listener(gone ? undefined : object);
      };
      informer.on('add', (object) => notify(object));
      informer.on('update', (object) => notify(object));
      informer.on('delete', (object) => notify(object, true));
      restartOnError(informer, () => this.stopped);
      this.informer = informer;
      await informer.start();
    })();
    this.starting.catch(() => (this.starting = undefined));
    return this.starting;
  }

  /** The cached object (after the first wait started the watch). */
  get(namespace: string, name: string): T | undefined {
    return this.informer?.get(name, namespace);
  }

  /**
   * Resolves with the first answer `decide` gives (anything but undefined) for the object as it is now and after
   * each change (undefined once it is deleted), or with undefined after `timeoutMs` or when `signal` aborts; it
   * leaves no timer or listener behind. `onChange` sees every change, for heartbeats.
   */
  async waitFor<R>(
    namespace: string,
    name: string,
    decide: (object: T | undefined) => R | undefined,
    options: { timeoutMs: number; onChange?: Listener<T>; signal?: AbortSignal },
  ): Promise<R | undefined> {
    const { timeoutMs, onChange, signal } = options;
    await this.start();
    const now = decide(this.get(namespace, name));
    if (now !== undefined) return now;
    const id = key(namespace, name);
    return new Promise<R | undefined>((resolve) => {
      const listeners = this.listeners.get(id) ?? new Set<Listener<T>>();
      this.listeners.set(id, listeners);
      const done = (answer: R | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        listeners.delete(listener);
        if (listeners.size === 0) this.listeners.delete(id);
        resolve(answer);
      };
      const listener: Listener<T> = (object) => {
        onChange?.(object);
        const answer = decide(object);
        if (answer !== undefined) done(answer);
      };
      const timer = setTimeout(() => done(decide(this.get(namespace, name))), timeoutMs);
      const aborted = (): void => done(undefined);
      signal?.addEventListener('abort', aborted);
      listeners.add(listener);
      if (signal?.aborted) return done(undefined);
      // The cache may have changed between the first look and the subscription.
      const answer = decide(this.get(namespace, name));
      if (answer !== undefined) done(answer);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
  }
}

/**
 * The worker's shared watches, one per kind its activities wait on for long. Pods are not among them: the
 * operator's pods change far more often (a crash loop is a stream of updates), and stopping a node waits for its
 * pod for seconds only, so that wait reads the one pod instead.
 */
export class OperatorWatches {
  readonly statefulSets: SharedWatch<k8s.V1StatefulSet>;
  readonly jobs: SharedWatch<k8s.V1Job>;

  /** `namespace`: the watched namespace of a namespace-scoped operator; unset: all namespaces. */
  constructor(kubeConfig: k8s.KubeConfig, namespace?: string) {
    this.statefulSets = new SharedWatch(kubeConfig, statefulSetsKind, namespace);
    this.jobs = new SharedWatch(kubeConfig, jobsKind, namespace);
  }

  async stop(): Promise<void> {
    await Promise.all([this.statefulSets.stop(), this.jobs.stop()]);
  }
}

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}
