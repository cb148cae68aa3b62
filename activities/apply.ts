import * as k8s from '@kubernetes/client-node';
import { isConflict, isNotFound, readIfExists, type KubeClients } from '../k8s/client.js';
import { MANAGER_NAME } from '../k8s/symbolNode.js';

/** Server-side apply as the operator's field manager: create-or-update in one idempotent call. */
export async function applyObject<T extends k8s.KubernetesObject>(kube: KubeClients, object: T): Promise<T> {
  return kube.objects.patch<T>(object, undefined, undefined, MANAGER_NAME, true, k8s.PatchStrategy.ServerSideApply);
}

export function readSecret(kube: KubeClients, namespace: string, name: string): Promise<k8s.V1Secret | undefined> {
  return readIfExists(() => kube.core.readNamespacedSecret({ namespace, name }));
}

/**
 * Creates a Secret unless one exists, and returns whichever is stored. Two concurrent attempts (a
 * retried activity, a second worker) therefore agree on one key: the first write wins, never the last.
 */
export async function createSecretOnce(kube: KubeClients, secret: k8s.V1Secret): Promise<k8s.V1Secret> {
  const namespace = secret.metadata!.namespace!;
  const name = secret.metadata!.name!;
  try {
    return await kube.core.createNamespacedSecret({ namespace, body: secret, fieldManager: MANAGER_NAME });
  } catch (error) {
    if (!isConflict(error)) throw error;
    const existing = await readSecret(kube, namespace, name);
    if (!existing) throw error;
    return existing;
  }
}

export function secretValue(secret: k8s.V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

/**
 * Deletes the pod if it is still the one that was read (same uid); gone or replaced meanwhile is fine.
 * `gracePeriodSeconds: 0` force-deletes it.
 */
export async function deletePodIfUnchanged(
  kube: KubeClients,
  pod: { namespace: string; name: string; uid: string | undefined },
  gracePeriodSeconds?: number,
): Promise<void> {
  try {
    await kube.core.deleteNamespacedPod({
      namespace: pod.namespace,
      name: pod.name,
      // In the body: the API server takes the DeleteOptions body over the query parameters.
      body: { preconditions: { uid: pod.uid }, ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }) },
    });
  } catch (error) {
    if (!isNotFound(error) && !isConflict(error)) throw error;
  }
}
