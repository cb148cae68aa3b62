import * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type SymbolNode,
  type SymbolNodeSpecInput,
} from '../../k8s/symbolNode.js';
import { watchUntil } from './cluster.js';

export const saiPeerSpec: SymbolNodeSpecInput = {
  network: 'sai',
  role: 'peer',
  image: 'symbolplatform/symbol-server:gcc-1.0.3.9',
  hostName: 'peer.example.org',
  friendlyName: 'test peer',
  volumeSize: '10Gi',
  dataRetentionPolicy: 'Delete',
};

/** Creates a SymbolNode with any spec, valid or not: the API server is the one to judge it. */
export async function createSymbolNode(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  spec: SymbolNodeSpecInput | Record<string, unknown>,
): Promise<SymbolNode> {
  return (await kc.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec },
  })) as SymbolNode;
}

export async function getSymbolNode(kc: k8s.KubeConfig, namespace: string, name: string): Promise<SymbolNode> {
  return (await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as SymbolNode;
}

export function conditionOf(
  node: SymbolNode,
  type: string,
): { status: string; reason: string; message: string; observedGeneration?: number } | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** Waits, through a watch, until the node's condition has the status (and reason, if given). */
/** The SymbolNode as soon as `predicate` holds for it (watched, not polled). */
export function untilNode(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  predicate: (node: SymbolNode) => boolean,
  timeoutMs = 120_000,
): Promise<SymbolNode> {
  return watchUntil<SymbolNode & k8s.KubernetesObject>(
    kc,
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    { fieldSelector: `metadata.name=${name}` },
    predicate,
    timeoutMs,
  );
}

export async function waitForCondition(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  type: string,
  status: 'True' | 'False',
  timeoutMs = 60_000,
): Promise<SymbolNode> {
  return watchUntil<SymbolNode & k8s.KubernetesObject>(
    kc,
    `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    {},
    (node) => node.metadata?.name === name && conditionOf(node, type)?.status === status,
    timeoutMs,
  );
}

export async function nodeEvents(kc: k8s.KubeConfig, namespace: string, name: string): Promise<k8s.CoreV1Event[]> {
  const events = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=${KIND},involvedObject.name=${name}`,
  });
  return events.items;
}
