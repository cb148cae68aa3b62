import * as k8s from '@kubernetes/client-node';

/** In a pod: the service account; elsewhere: the given file, else KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(kubeconfigPath?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
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
