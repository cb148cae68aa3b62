/**
 * The operator's one Kubernetes cache: every informer it runs (SymbolNodes, the nodes' pods, Kubernetes Nodes,
 * StatefulSets, Jobs), each with the same restart policy (k8s/informer.ts) and its health in one place for
 * readiness and metrics. Informers start on first use: a worker without watchers never lists SymbolNodes.
 */
import * as k8s from '@kubernetes/client-node';
import {
  CachedInformer,
  DEFAULT_RESTART_POLICY,
  type CacheObserver,
  type InformerHealth,
  type RestartPolicy,
} from './informer.js';
import {
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGER_NAME,
  symbolNodeGroup,
  symbolNodePlural,
  symbolNodeVersion,
  type SymbolNode,
} from './symbolNode.js';

export { CachedInformer, DEFAULT_RESTART_POLICY, restartDelayMs } from './informer.js';
export type { CacheObserver, InformerHealth, RestartPolicy } from './informer.js';

export interface KubernetesCacheOptions {
  kubeConfig: k8s.KubeConfig;
  /** The namespace of a namespace-scoped install (its Role allows no more); unset: all namespaces. */
  namespace?: string;
  restartPolicy?: Partial<RestartPolicy>;
  observer?: CacheObserver;
}

const managed = `${LABEL_MANAGED_BY}=${MANAGER_NAME}`;
/** Recovery Jobs' pods share the volume but not the node's health: only the StatefulSets' pods are watched. */
export const NODE_POD_SELECTOR = `${managed},${LABEL_COMPONENT}=node`;

export class KubernetesCache {
  readonly symbolNodes: CachedInformer<SymbolNode>;
  /** The pods of the SymbolNodes' StatefulSets. */
  readonly nodePods: CachedInformer<k8s.V1Pod>;
  /** Kubernetes Nodes, for their readiness (a pod on a lost node). Cluster-scoped. */
  readonly kubernetesNodes: CachedInformer<k8s.V1Node>;
  readonly statefulSets: CachedInformer<k8s.V1StatefulSet>;
  readonly jobs: CachedInformer<k8s.V1Job>;

  constructor(options: KubernetesCacheOptions) {
    const { kubeConfig: kc, namespace } = options;
    const policy = { ...DEFAULT_RESTART_POLICY, ...options.restartPolicy };
    const make = <T extends k8s.KubernetesObject>(
      name: string,
      path: string,
      list: () => Promise<k8s.KubernetesListObject<T>>,
      labelSelector?: string,
    ) => new CachedInformer<T>(name, { kubeConfig: kc, path, list, labelSelector }, policy, options.observer);
    const scoped = (group: string, plural: string) =>
      namespace ? `${group}/namespaces/${namespace}/${plural}` : `${group}/${plural}`;

    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const crd = { group: symbolNodeGroup, version: symbolNodeVersion, plural: symbolNodePlural };
    this.symbolNodes = make<SymbolNode>(
      'symbolnodes',
      scoped(`/apis/${symbolNodeGroup}/${symbolNodeVersion}`, symbolNodePlural),
      async () =>
        (namespace
          ? await custom.listNamespacedCustomObject({ ...crd, namespace })
          : await custom.listClusterCustomObject(crd)) as k8s.KubernetesListObject<SymbolNode>,
    );

    const core = kc.makeApiClient(k8s.CoreV1Api);
    this.nodePods = make<k8s.V1Pod>(
      'pods',
      scoped('/api/v1', 'pods'),
      () =>
        namespace
          ? core.listNamespacedPod({ namespace, labelSelector: NODE_POD_SELECTOR })
          : core.listPodForAllNamespaces({ labelSelector: NODE_POD_SELECTOR }),
      NODE_POD_SELECTOR,
    );
    this.kubernetesNodes = make<k8s.V1Node>('nodes', '/api/v1/nodes', () => core.listNode());

    const apps = kc.makeApiClient(k8s.AppsV1Api);
    this.statefulSets = make<k8s.V1StatefulSet>(
      'statefulsets',
      scoped('/apis/apps/v1', 'statefulsets'),
      () =>
        namespace
          ? apps.listNamespacedStatefulSet({ namespace, labelSelector: managed })
          : apps.listStatefulSetForAllNamespaces({ labelSelector: managed }),
      managed,
    );
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    this.jobs = make<k8s.V1Job>(
      'jobs',
      scoped('/apis/batch/v1', 'jobs'),
      () =>
        namespace
          ? batch.listNamespacedJob({ namespace, labelSelector: managed })
          : batch.listJobForAllNamespaces({ labelSelector: managed }),
      managed,
    );
  }

  private all(): Pick<CachedInformer<k8s.KubernetesObject>, 'started' | 'health' | 'stop'>[] {
    return [this.symbolNodes, this.nodePods, this.kubernetesNodes, this.statefulSets, this.jobs];
  }

  /** Health of every informer started so far. */
  stats(): InformerHealth[] {
    return this.all()
      .filter((informer) => informer.started())
      .map((informer) => informer.health());
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.stop()));
  }
}
