import type * as k8s from '@kubernetes/client-node';
import { KubernetesCache, type CachedInformer } from '../k8s/cache.js';

/**
 * A collection of the operator's objects in the worker's Kubernetes cache, shared by every wait in this worker:
 * waiting on a thousand nodes costs the API server one watch, not a poll per node. Started by the first wait.
 */
export type SharedWatch<T extends k8s.KubernetesObject> = CachedInformer<T>;

/** The cache's collections the activities wait on: rollouts, recovery Jobs, and node pods going away. */
export class OperatorWatches {
  readonly statefulSets: SharedWatch<k8s.V1StatefulSet>;
  readonly jobs: SharedWatch<k8s.V1Job>;
  readonly pods: SharedWatch<k8s.V1Pod>;
  private readonly owned?: KubernetesCache;

  /**
   * Over the operator's cache, or (a kubeconfig, for tools and tests) a cache of its own; `namespace`: the watched
   * namespace of a namespace-scoped operator, unset: all namespaces.
   */
  constructor(source: KubernetesCache | k8s.KubeConfig, namespace?: string) {
    const cache = source instanceof KubernetesCache ? source : new KubernetesCache({ kubeConfig: source, namespace });
    if (!(source instanceof KubernetesCache)) this.owned = cache;
    this.statefulSets = cache.statefulSets;
    this.jobs = cache.jobs;
    this.pods = cache.nodePods;
  }

  /** Stops the cache it made itself; the operator's cache is stopped by its owner. */
  async stop(): Promise<void> {
    await this.owned?.stop();
  }
}
