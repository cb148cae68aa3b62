import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type * as http from 'node:http';
import type * as https from 'node:https';

/** In a pod: the service account; elsewhere: the given file, else KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return reuseConnections(kc);
}

type AgentFactory = (cluster: k8s.Cluster | null, options: https.AgentOptions) => http.Agent;

/**
 * client-node 1.x builds a new HTTPS agent for every request, so every call pays a TLS handshake
 * (on both sides: it was the largest CPU cost of a provisioning burst). Keep one keep-alive agent
 * per server and credentials instead; new credentials (a rotated certificate) get a new agent.
 */
export function reuseConnections(kc: k8s.KubeConfig): k8s.KubeConfig {
  const factory = kc as unknown as { createAgent: AgentFactory };
  const create = factory.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  factory.createAgent = (cluster, options) => {
    const credentials = [
      options.ca,
      options.cert,
      options.key,
      options.pfx,
      options.rejectUnauthorized,
      options.servername,
    ]
      .map((part) => (Buffer.isBuffer(part) ? part.toString('base64') : JSON.stringify(part ?? null)))
      .join('\n');
    const key = `${cluster?.server ?? ''}\n${createHash('sha256').update(credentials).digest('hex')}`;
    let agent = agents.get(key);
    if (!agent) {
      // No maxSockets: requests that queue for a socket end in false "Premature close" errors from
      // node-fetch 2 (node-fetch#1767), which turned 100 simultaneous remediations into retry storms.
      // Idle connections are still bounded.
      agent = create(cluster, { ...options, keepAlive: true, maxFreeSockets: 64 });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

export interface KubeClients {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  custom: k8s.CustomObjectsApi;
  objects: k8s.KubernetesObjectApi;
}

export function makeKubeClients(config: k8s.KubeConfig): KubeClients {
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    batch: config.makeApiClient(k8s.BatchV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
  };
}

export function isNotFound(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 404;
}

/** The object, or undefined when the API server says it does not exist. */
export async function readIfExists<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function isConflict(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 409;
}

/**
 * API errors carry the request body's echo and headers; keep only what is safe and useful in
 * workflow history (never a Secret's content).
 */
export function describeApiError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    let message = '';
    try {
      message = (JSON.parse(String(error.body)) as { message?: string }).message ?? '';
    } catch {
      message = '';
    }
    return `Kubernetes API ${error.code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
