/**
 * Calls outside the operator's RBAC are refused by the real API server, asked with the operator account's own
 * token (what an in-cluster operator has), for both installs: k8s/manifests/rbac-namespaced (one watched namespace)
 * and k8s/manifests/rbac (cluster-wide).
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP, PLURAL, VERSION } from '../../k8s/symbolNode.js';
import { withNamespace } from '../support/cluster.js';
import {
  accountKubeConfig,
  applyObjects,
  clusterRbacDir,
  deleteObjects,
  ensureServiceAccount,
  namespacedRbacDir,
  renderRbac,
  waitUntilAllowed,
  type OperatorAccount,
} from '../support/rbac.js';

/** The HTTP status the API server answered: 200 when the call succeeded. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error.code;
    throw error;
  }
}

async function createSecret(kc: k8s.KubeConfig, namespace: string): Promise<void> {
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'webhook' }, stringData: { url: `https://hooks.example.org/${namespace}` } },
  });
}

/** Runs `body` with the account bound by the rendered RBAC; removes the cluster-scoped objects afterwards. */
async function withRbac(
  admin: k8s.KubeConfig,
  account: OperatorAccount,
  rbac: k8s.KubernetesObject[],
  allowed: Parameters<typeof waitUntilAllowed>[2],
  body: (operator: k8s.KubeConfig) => Promise<void>,
): Promise<void> {
  try {
    await ensureServiceAccount(admin, account);
    await applyObjects(admin, rbac);
    await waitUntilAllowed(admin, account, allowed);
    await body(await accountKubeConfig(admin, account, 600));
  } finally {
    await deleteObjects(
      admin,
      rbac.filter((o) => o.kind!.startsWith('Cluster')),
    );
  }
}

const symbolNodes = { group: GROUP, version: VERSION, plural: PLURAL };

test('namespace-scoped install: its account reads a Secret in the watched namespace, and is refused (403) in another one and cluster-wide', async () => {
  await withNamespace('rbac-op', async (operatorNamespace, admin) => {
    await withNamespace('rbac-watched', async (watched) => {
      await withNamespace('rbac-other', async (other) => {
        const account = { namespace: operatorNamespace, name: 'operator', suffix: `refusal-${operatorNamespace}` };
        const rbac = await renderRbac(namespacedRbacDir, account, watched);
        assert.deepEqual(
          rbac.map((o) => `${o.kind} ${o.metadata?.namespace ?? '-'}`).sort(),
          ['ClusterRole -', 'ClusterRoleBinding -', `Role ${watched}`, `RoleBinding ${watched}`],
          'kustomize put the Role and its binding in the watched namespace',
        );
        await Promise.all([createSecret(admin, watched), createSecret(admin, other)]);
        const allowed = [{ verb: 'get', group: '', resource: 'secrets', namespace: watched }];
        await withRbac(admin, account, rbac, allowed, async (operator) => {
          const core = operator.makeApiClient(k8s.CoreV1Api);
          const custom = operator.makeApiClient(k8s.CustomObjectsApi);
          const apps = operator.makeApiClient(k8s.AppsV1Api);
          const secret = await core.readNamespacedSecret({ namespace: watched, name: 'webhook' });
          assert.equal(Buffer.from(secret.data!.url!, 'base64').toString(), `https://hooks.example.org/${watched}`);
          assert.equal(await statusOf(() => core.readNamespacedSecret({ namespace: other, name: 'webhook' })), 403);
          assert.equal(await statusOf(() => core.listNamespacedSecret({ namespace: watched })), 403, 'by name only');
          assert.equal(await statusOf(() => core.deleteNamespacedSecret({ namespace: watched, name: 'webhook' })), 403);
          assert.equal(
            await statusOf(() => core.createNamespacedSecret({ namespace: other, body: { metadata: { name: 'x' } } })),
            403,
          );

          assert.equal(
            await statusOf(() => custom.listNamespacedCustomObject({ ...symbolNodes, namespace: watched })),
            200,
          );
          assert.equal(
            await statusOf(() => custom.listNamespacedCustomObject({ ...symbolNodes, namespace: other })),
            403,
          );
          assert.equal(
            await statusOf(() => custom.listClusterCustomObject(symbolNodes)),
            403,
            'SymbolNodes cluster-wide',
          );
          assert.equal(await statusOf(() => apps.listStatefulSetForAllNamespaces()), 403, 'StatefulSets cluster-wide');
          assert.equal(await statusOf(() => core.listPodForAllNamespaces()), 403, 'pods cluster-wide');
          assert.equal(await statusOf(() => core.listNode()), 200, 'Nodes: the one cluster-scoped read');
          assert.equal(await statusOf(() => core.deleteNode({ name: 'kwok-node-0' })), 403, 'read-only');
        });
      });
    });
  });
});

test('cluster-wide install: its account reads a Secret by name in any namespace, but may not list Secrets, edit specs or install CRDs', async () => {
  await withNamespace('rbac-op', async (operatorNamespace, admin) => {
    await withNamespace('rbac-any', async (any) => {
      const account = { namespace: operatorNamespace, name: 'operator', suffix: `refusal-${operatorNamespace}` };
      const rbac = await renderRbac(clusterRbacDir, account);
      await createSecret(admin, any);
      const allowed = [{ verb: 'get', group: '', resource: 'secrets', namespace: any }];
      await withRbac(admin, account, rbac, allowed, async (operator) => {
        const core = operator.makeApiClient(k8s.CoreV1Api);
        const custom = operator.makeApiClient(k8s.CustomObjectsApi);
        assert.equal(await statusOf(() => core.readNamespacedSecret({ namespace: any, name: 'webhook' })), 200);
        assert.equal(await statusOf(() => custom.listClusterCustomObject(symbolNodes)), 200);
        assert.equal(await statusOf(() => core.listSecretForAllNamespaces()), 403, 'Secrets are read by name only');
        assert.equal(await statusOf(() => core.listNamespacedSecret({ namespace: any })), 403);
        assert.equal(
          await statusOf(() =>
            custom.patchNamespacedCustomObject(
              { ...symbolNodes, namespace: any, name: 'x', body: { spec: {} } },
              k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
            ),
          ),
          403,
          'the spec is the user’s',
        );
        const extensions = operator.makeApiClient(k8s.ApiextensionsV1Api);
        assert.equal(
          await statusOf(() => extensions.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` })),
          403,
          'the CRD is installed by the admin',
        );
        assert.equal(await statusOf(() => core.readNamespace({ name: any })), 403);
      });
    });
  });
});
