/**
 * The operator's RBAC on the local stack, as a cluster admin installs it: the kustomizations of
 * k8s/manifests/rbac*, rendered by the stack's kubectl, applied, and bound to a ServiceAccount whose token the tests'
 * operator then uses. The rules are the manifests' own; an overlay only renames the cluster-scoped objects and
 * points the bindings at the account under test, so a real install on the same stack is never touched.
 */
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { reuseConnections } from '../../k8s/client.js';
import { binaries } from '../../stack/versions.js';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

export const clusterRbacDir = join(repoRoot, 'k8s/manifests/rbac');
export const namespacedRbacDir = join(repoRoot, 'k8s/manifests/rbac-namespaced');
const fieldManager = 'symbol-node-operator-tests';

/** A ServiceAccount the operator runs as; `suffix` names the cluster-scoped RBAC objects bound to it. */
export interface OperatorAccount {
  namespace: string;
  name: string;
  suffix: string;
}

/** The account of the tests' operators (all of them: their RoleBindings are in their own test namespaces). */
export const testOperatorAccount: OperatorAccount = {
  namespace: 'symbol-node-operator-test',
  name: 'symbol-node-operator',
  suffix: 'test',
};

export const usernameOf = (account: OperatorAccount): string =>
  `system:serviceaccount:${account.namespace}:${account.name}`;

/**
 * Renders `base` through an overlay, as an admin's own kustomization would include it: `namespace` (the watched
 * namespace of a namespace-scoped install), the account's suffix on every name, and its bindings' subject.
 */
export async function renderRbac(
  base: string,
  account: OperatorAccount,
  namespace?: string,
): Promise<k8s.KubernetesObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sno-rbac-'));
  try {
    const subject = JSON.stringify([
      { op: 'replace', path: '/subjects/0/name', value: account.name },
      { op: 'replace', path: '/subjects/0/namespace', value: account.namespace },
    ]);
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      ...(namespace ? { namespace } : {}),
      nameSuffix: `-${account.suffix}`,
      resources: [relative(dir, base)],
      patches: ['RoleBinding', 'ClusterRoleBinding'].map((kind) => ({ target: { kind }, patch: subject })),
    };
    await writeFile(join(dir, 'kustomization.yaml'), k8s.dumpYaml(kustomization));
    const { stdout } = await run(binaries.kubectl, ['kustomize', dir], { maxBuffer: 16 << 20 });
    return k8s.loadAllYaml(stdout) as k8s.KubernetesObject[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function applyObjects(admin: k8s.KubeConfig, objects: k8s.KubernetesObject[]): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const object of objects) {
    await api.patch(object, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
  }
}

export async function deleteObjects(admin: k8s.KubeConfig, objects: k8s.KubernetesObject[]): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const object of objects) {
    await api.delete(object).catch((error: unknown) => {
      if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
    });
  }
}

async function createIfMissing(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
}

export async function ensureServiceAccount(admin: k8s.KubeConfig, account: OperatorAccount): Promise<void> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  await createIfMissing(() => core.createNamespace({ body: { metadata: { name: account.namespace } } }));
  await createIfMissing(() =>
    core.createNamespacedServiceAccount({
      namespace: account.namespace,
      body: { metadata: { name: account.name, namespace: account.namespace } },
    }),
  );
}

/**
 * A kubeconfig that talks to the same API server as `admin`, with a token of the account from the TokenRequest API
 * (as the kubelet mounts into an in-cluster operator's pod): whatever it does is judged by RBAC.
 */
export async function accountKubeConfig(
  admin: k8s.KubeConfig,
  account: OperatorAccount,
  expirationSeconds = 6 * 3600,
): Promise<k8s.KubeConfig> {
  const request = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    namespace: account.namespace,
    name: account.name,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`no token issued for ${usernameOf(account)}`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new k8s.KubeConfig();
  const user = `${account.namespace}-${account.name}`;
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return reuseConnections(kc);
}

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
}

/** What the API server's authorizer answers for the account (asked by the admin: SubjectAccessReview). */
export async function isAllowed(admin: k8s.KubeConfig, account: OperatorAccount, check: AccessCheck): Promise<boolean> {
  const [resource, subresource] = check.resource.split('/');
  const review = await admin.makeApiClient(k8s.AuthorizationV1Api).createSubjectAccessReview({
    body: {
      spec: {
        user: usernameOf(account),
        groups: ['system:serviceaccounts', `system:serviceaccounts:${account.namespace}`, 'system:authenticated'],
        resourceAttributes: {
          verb: check.verb,
          group: check.group,
          resource,
          ...(subresource ? { subresource } : {}),
          ...(check.namespace ? { namespace: check.namespace } : {}),
        },
      },
    },
  });
  return review.status?.allowed === true;
}

/** New bindings reach the authorizer through its informers: wait until it has seen them. */
export async function waitUntilAllowed(
  admin: k8s.KubeConfig,
  account: OperatorAccount,
  checks: AccessCheck[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const check of checks) {
    while (!(await isAllowed(admin, account, check))) {
      if (Date.now() > deadline)
        throw new Error(`${usernameOf(account)} is still not allowed ${JSON.stringify(check)}`);
      await sleep(50);
    }
  }
}

const prepared = new Map<string, Promise<unknown>>();
function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  let promise = prepared.get(key) as Promise<T> | undefined;
  if (!promise) {
    promise = make();
    prepared.set(key, promise);
    promise.catch(() => prepared.delete(key));
  }
  return promise;
}

/**
 * The namespace-scoped install for an operator watching `namespace`, run as `account`: the account, the Role and
 * RoleBinding of k8s/manifests/rbac-namespaced in that namespace, its read-only Nodes ClusterRole, and a kubeconfig
 * with the account's token. Each part is made once per test process.
 */
export async function namespacedOperatorKubeConfig(
  admin: k8s.KubeConfig,
  namespace: string,
  account: OperatorAccount = testOperatorAccount,
): Promise<k8s.KubeConfig> {
  const key = `${account.namespace}/${account.name}`;
  await once(`account ${key}`, () => ensureServiceAccount(admin, account));
  const objects = await renderRbac(namespacedRbacDir, account, namespace);
  const clusterScoped = objects.filter((o) => o.kind!.startsWith('Cluster'));
  await once(`cluster rbac ${key}`, () => applyObjects(admin, clusterScoped));
  await once(`rbac ${key} in ${namespace}`, () =>
    applyObjects(
      admin,
      objects.filter((o) => !o.kind!.startsWith('Cluster')),
    ),
  );
  await waitUntilAllowed(admin, account, [
    { verb: 'watch', group: 'symbol.nodeoperator.io', resource: 'symbolnodes', namespace },
    { verb: 'watch', group: '', resource: 'nodes' },
  ]);
  return once(`token ${key}`, () => accountKubeConfig(admin, account));
}

/** One request as kube-apiserver's audit log records it (Metadata level: no bodies). */
export interface AuditEntry {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; apiGroup?: string; name?: string };
  responseStatus?: { code?: number };
}

/** `verb group/resource[/subresource]`, as the unit test spells a grant; non-resource requests by their path. */
export function grantOf(entry: AuditEntry): string {
  const ref = entry.objectRef;
  if (!ref?.resource) return `${entry.verb} ${entry.requestURI.split('?')[0]}`;
  return `${entry.verb} ${ref.apiGroup ?? ''}/${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}`;
}

/**
 * What a request needed: its own verb, and for a server-side apply that created the object (a PATCH answered 201)
 * the create the API server authorized besides.
 */
export function grantsOf(entry: AuditEntry): string[] {
  const grant = grantOf(entry);
  return entry.verb === 'patch' && entry.responseStatus?.code === 201
    ? [grant, grant.replace(/^patch /, 'create ')]
    : [grant];
}

/** The completed requests of `username` in the audit log, from byte `offset` on (one entry per request). */
export async function auditEntries(logPath: string, username: string, offset = 0): Promise<AuditEntry[]> {
  const entries = new Map<string, AuditEntry>();
  const lines = createInterface({ input: createReadStream(logPath, { start: offset }), crlfDelay: Infinity });
  const needle = `"username":"${username}"`;
  for await (const line of lines) {
    if (!line.includes(needle)) continue;
    const entry = JSON.parse(line) as AuditEntry;
    if (entry.user.username !== username) continue;
    // A watch is recorded when it starts and when it ends; keep the last stage.
    entries.set(entry.auditID, entry);
  }
  return [...entries.values()];
}
