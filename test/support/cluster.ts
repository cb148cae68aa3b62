import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { loadKubeConfig, readIfExists } from '../../k8s/client.js';
import { paths } from '../../stack/versions.js';
import { recordNamespace } from './secretLedger.js';

/** A client for the local stack's cluster; integration tests never talk to anything else. */
export function testKubeConfig(): k8s.KubeConfig {
  return loadKubeConfig(paths.kubeconfig);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Each test gets its own namespace, deleted afterwards, so tests can share one cluster. */
export async function withNamespace<T>(
  prefix: string,
  body: (namespace: string, kc: k8s.KubeConfig) => Promise<T>,
): Promise<T> {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = uniqueName(prefix);
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'symbol.nodeoperator.io/test': 'true' } } },
  });
  // The final secret scan needs every key written here, and what the namespace held, before it is deleted.
  const recorder = recordNamespace(kc, namespace);
  try {
    // Pods are rejected by ServiceAccount admission until the controller creates the default account.
    await watchUntil(
      kc,
      `/api/v1/namespaces/${namespace}/serviceaccounts`,
      {},
      (sa) => sa.metadata?.name === 'default',
    );
    return await body(namespace, kc);
  } finally {
    await recorder.stop();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  }
}

/**
 * Resolves with the first object of a watched collection that satisfies `predicate`, as seen through
 * a real watch (not polling). Rejects after `timeoutMs` with the last state seen, for a useful failure.
 * `predicate` also gets the event type (ADDED, MODIFIED, DELETED); to see a deletion, watch from a
 * `resourceVersion` read before it.
 */
export async function watchUntil<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  query: Record<string, string>,
  predicate: (object: T, type: string) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const watch = new k8s.Watch(kc);
  let last: T | undefined;
  let request: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out after ${timeoutMs} ms watching ${path}; last seen: ${JSON.stringify((last as { status?: unknown } | undefined)?.status ?? last)}`,
            ),
          ),
        timeoutMs,
      );
      let settled = false;
      const start = () =>
        watch
          .watch(
            path,
            query,
            (type, object: T) => {
              last = object;
              if (!settled && predicate(object, type)) {
                settled = true;
                resolve(object);
              }
            },
            (error) => {
              if (settled) return;
              if (error) {
                settled = true;
                reject(error instanceof Error ? error : new Error(String(error)));
              } else {
                // The API server ends watches now and then (its timeout, a busy server): watch again, from a new
                // list, or the wait would sit out its timeout looking at a stream that ended.
                void start();
              }
            },
          )
          .then((controller) => (request = controller), reject);
      void start();
    });
  } finally {
    clearTimeout(timer);
    request?.abort();
  }
}

/** True when the API server says the object does not exist. */
export async function absent(read: () => Promise<unknown>): Promise<boolean> {
  return (await readIfExists(read)) === undefined;
}
