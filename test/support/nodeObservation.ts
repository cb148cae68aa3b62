/**
 * What a SymbolNode's namespace holds and how its identity evolved, for tests that crash the operator and check that
 * nothing was done twice: the objects by kind, the milestone Events, and every version of the Secrets and public keys.
 */
import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { objectNames } from '../../k8s/objects/index.js';
import { PrivateKeySecret } from '../../symbol/index.js';
import { nodeEvents } from './symbolNodes.js';

/** Names per kind (Jobs by count: their names are the workflows' to choose). */
export interface NamespaceObjects {
  secrets: string[];
  configMaps: string[];
  statefulSets: string[];
  services: string[];
  persistentVolumeClaims: string[];
  jobs: number;
}

export async function namespaceObjects(kc: k8s.KubeConfig, namespace: string): Promise<NamespaceObjects> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const names = (list: { items: k8s.KubernetesObject[] }) => list.items.map((o) => o.metadata!.name!).sort();
  const [secrets, configMaps, statefulSets, services, claims, jobs] = await Promise.all([
    core.listNamespacedSecret({ namespace }),
    core.listNamespacedConfigMap({ namespace }),
    apps.listNamespacedStatefulSet({ namespace }),
    core.listNamespacedService({ namespace }),
    core.listNamespacedPersistentVolumeClaim({ namespace }),
    batch.listNamespacedJob({ namespace }),
  ]);
  return {
    secrets: names(secrets),
    configMaps: names(configMaps),
    statefulSets: names(statefulSets),
    services: names(services),
    persistentVolumeClaims: names(claims),
    jobs: jobs.items.length,
  };
}

/** Per Event reason: how many Event objects, and the sum of their counts (a repeat bumps the count). */
export async function eventTally(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  reasons: readonly string[],
): Promise<Record<string, { objects: number; count: number }>> {
  const events = await nodeEvents(kc, namespace, name);
  return Object.fromEntries(
    reasons.map((reason) => {
      const mine = events.filter((e) => e.reason === reason);
      return [reason, { objects: mine.length, count: mine.reduce((n, e) => n + (e.count ?? 1), 0) }];
    }),
  );
}

const digest = (data: Record<string, string> | undefined): string =>
  createHash('sha256')
    .update(JSON.stringify(Object.entries(data ?? {}).sort()))
    .digest('hex')
    .slice(0, 12);

/**
 * Watches the namespace's Secrets and the SymbolNode from before the node exists: every change to a Secret's data
 * after it was first written, every re-creation, every second pair of public keys is a changed identity. Only
 * digests are kept: private keys never reach the test's output.
 */
export class IdentityObserver {
  private readonly secrets = new Map<string, { uid: string; digest: string }>();
  private readonly keyPairs = new Set<string>();
  readonly changes: string[] = [];
  private readonly requests: AbortController[] = [];
  private stopped = false;
  /** Why watches ended early (an API server restart): informative only. */
  readonly restarts: string[] = [];

  private constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
  ) {}

  static async start(kc: k8s.KubeConfig, namespace: string): Promise<IdentityObserver> {
    const observer = new IdentityObserver(kc, namespace);
    await Promise.all([
      observer.follow(`/api/v1/namespaces/${namespace}/secrets`, (type, s: k8s.V1Secret) =>
        observer.secretSeen(type, s),
      ),
      observer.follow(`/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`, (_type, n: SymbolNode) =>
        observer.nodeSeen(n),
      ),
    ]);
    return observer;
  }

  /**
   * Watches until stopped. A watch the API server closes is started again from a new list: what it lists is
   * compared with what was seen first, so a change while no watch ran is still seen at the end.
   */
  private async follow<T>(path: string, seen: (type: string, object: T) => void): Promise<void> {
    const started = await new k8s.Watch(this.kc).watch(path, {}, seen, (error) => {
      if (this.stopped) return;
      if (error && !(error instanceof Error && error.name === 'AbortError')) this.restarts.push(String(error));
      const again = () => {
        if (!this.stopped) this.follow(path, seen).catch(() => setTimeout(again, 1000));
      };
      setTimeout(again, 500);
    });
    if (this.stopped) started.abort();
    else this.requests.push(started);
  }

  private secretSeen(type: string, secret: k8s.V1Secret): void {
    const name = secret.metadata!.name!;
    const now = { uid: secret.metadata!.uid!, digest: digest(secret.data) };
    const first = this.secrets.get(name);
    if (type === 'DELETED') this.changes.push(`Secret ${name} deleted`);
    else if (!first) this.secrets.set(name, now);
    else if (first.uid !== now.uid) this.changes.push(`Secret ${name} re-created`);
    else if (first.digest !== now.digest) this.changes.push(`Secret ${name}: data changed`);
  }

  private nodeSeen(node: SymbolNode): void {
    const { mainPublicKey, nodePublicKey } = node.status ?? {};
    if (!mainPublicKey && !nodePublicKey) return;
    const pair = `main ${mainPublicKey}, node ${nodePublicKey}`;
    if (this.keyPairs.size > 0 && !this.keyPairs.has(pair)) this.changes.push(`status public keys changed to ${pair}`);
    this.keyPairs.add(pair);
  }

  /** The first public keys the status showed. */
  publicKeys(): string | undefined {
    return [...this.keyPairs][0];
  }

  stop(): void {
    this.stopped = true;
    for (const request of this.requests) request.abort();
  }

  /** The public keys that the node's Secrets hold now, in the status's form. */
  async secretsPublicKeys(nodeName: string): Promise<string> {
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const names = objectNames(nodeName);
    const [identity, certificates] = await Promise.all([
      core.readNamespacedSecret({ namespace: this.namespace, name: names.identitySecret }),
      core.readNamespacedSecret({ namespace: this.namespace, name: names.certificatesSecret }),
    ]);
    const text = (s: k8s.V1Secret, key: string) =>
      Buffer.from(s.data?.[key] ?? '', 'base64')
        .toString()
        .trim();
    const main = PrivateKeySecret.fromHex(text(identity, 'privateKey')).publicKey;
    const node = PrivateKeySecret.fromPem(text(certificates, 'node.key.pem')).publicKey;
    return `main ${main}, node ${node}`;
  }
}
