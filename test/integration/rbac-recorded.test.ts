/**
 * The operator's RBAC against the requests it really makes: the operator runs as its own ServiceAccount with the
 * rules of k8s/manifests/rbac-namespaced, goes through its main code paths, and kube-apiserver's audit log
 * (stack/cluster.ts: every ServiceAccount request at Metadata level) says what it asked for. Nothing it asked may be
 * outside the rules, and every rule must have been used, or be listed below with the reason it was not.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { paths } from '../../stack/versions.js';
import type { RemediationOutcome } from '../../workflows/remediateNode.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { injectPodFault, unpullableImage } from '../support/faults.js';
import { withOperator } from '../support/operator.js';
import { saiPackageZip } from '../support/paths.js';
import {
  auditEntries,
  deleteObjects,
  grantOf,
  grantsOf,
  namespacedRbacDir,
  renderRbac,
  testOperatorAccount,
  usernameOf,
  type AuditEntry,
  type OperatorAccount,
} from '../support/rbac.js';
import { conditionOf, createSymbolNode, saiPeerSpec } from '../support/symbolNodes.js';

/** Rules this test may leave unused, and why (each is covered by the unit test's reading of the code). */
const notExercised: Record<string, string> = {
  [`update ${GROUP}/${PLURAL}/finalizers`]:
    'blockOwnerDeletion is authorized by the OwnerReferencesPermissionEnforcement admission plugin (off on the local stack): never a request of its own',
  'get batch/jobs':
    'waitForRecoveryJobFor reads a Job only when its watch has not shown it within 5 s or is down, createRecoveryJobFor on a 409 (whose Job is it?)',
  'get /nodes':
    "waitForNodePodsGoneFor reads a pod's Kubernetes node only when that pod is still Terminating (remediate-lost-node.test.ts)",
  'get /events': 'recordNodeEvent reads an Event only when the same one (node, reason, message) is recorded again',
  'patch /events': 'as get: the count of a repeated Event',
};

function granted(rules: k8s.V1PolicyRule[]): Set<string> {
  return new Set(
    rules.flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))),
    ),
  );
}

const describeEntries = (entries: AuditEntry[]) =>
  entries.map((e) => `${grantOf(e)} ${e.objectRef?.namespace ?? ''} → ${e.responseStatus?.code}`).join('; ');

test('the operator asks for nothing outside its RBAC and uses every rule of it (audit log of the API server)', async (t) => {
  assert.ok(
    existsSync(paths.auditLog),
    `kube-apiserver writes no audit log at ${paths.auditLog}: the stack predates it; recreate it (npm run stack -- down, then up)`,
  );
  await withNamespace('rbac-rec', async (namespace, kc) => {
    const account: OperatorAccount = { namespace, name: 'operator', suffix: `recorded-${namespace}` };
    const rbac = await renderRbac(namespacedRbacDir, account, namespace);
    const offset = (await stat(paths.auditLog)).size;
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const patchSpec = (spec: Record<string, unknown>) =>
      custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace, name: 'rec', body: { spec } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    const until = (what: string, predicate: (node: SymbolNode) => boolean, timeoutMs = 60_000) =>
      watchUntil<SymbolNode & k8s.KubernetesObject>(
        kc,
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
        { fieldSelector: 'metadata.name=rec' },
        predicate,
        timeoutMs,
      ).catch((error: unknown) => assert.fail(`${what}: ${error instanceof Error ? error.message : String(error)}`));
    const readyAt = (generation: number) => (node: SymbolNode) =>
      conditionOf(node, 'Ready')?.status === 'True' && node.status?.observedGeneration === generation;

    try {
      await withOperator({ namespace, account }, async ({ kube, client }) => {
        // A network package from a ConfigMap, and harvesting keys: the configuration paths that read and write most.
        const zip = await readFile(saiPackageZip);
        await kube.core.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name: 'sai-package' }, binaryData: { 'package.zip': zip.toString('base64') } },
        });
        const created = await createSymbolNode(kc, namespace, 'rec', {
          ...saiPeerSpec,
          network: 'custom',
          networkPackage: {
            configMapRef: { name: 'sai-package' },
            sha256: createHash('sha256').update(zip).digest('hex'),
          },
          harvester: true,
        });
        await until('provisioned and Ready', readyAt(1));

        // A larger volume (the StatefulSet refuses the new claim template: read it, grow the claim) and an image
        // that cannot be pulled; then the good image again, which replaces the pod stuck on the bad one.
        await patchSpec({ volumeSize: '20Gi', image: unpullableImage });
        await until('the bad image reported', (node) => conditionOf(node, 'Degraded')?.reason === 'ImagePullBackOff');
        await patchSpec({ image: saiPeerSpec.image });
        await until('Ready again after the rollback', readyAt(3));

        // A crash loop with a stale lock: stop, recovery Job, start.
        await injectPodFault(kc, namespace, 'rec-0', {
          kind: 'crash-loop',
          container: 'server',
          exitCode: 253,
          restartInterval: '1s',
        });
        await until('the crash loop reported', (node) => conditionOf(node, 'Degraded')?.status === 'True');
        const lifecycleId = nodeLifecycleWorkflowId({ namespace, name: 'rec', uid: created.metadata!.uid! });
        let outcome: RemediationOutcome | undefined;
        for (let attempt = 0; !outcome; attempt++) {
          outcome = (await client.workflow
            .getHandle(`${lifecycleId}/remediate/1`)
            .result()
            .catch(async (error: unknown) => {
              if (attempt > 100) throw error;
              await sleep(200); // not started yet
              return undefined;
            })) as RemediationOutcome | undefined;
        }
        // Recovered: the StatefulSet was back up and Ready (the remediation waits for that itself).
        assert.equal(outcome.outcome, 'Recovered');

        await custom.deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name: 'rec',
        });
        // Its end, however the last status write went, is the last the operator does for the node.
        await client.workflow
          .getHandle(lifecycleId)
          .result()
          .catch(() => undefined);
      });
    } finally {
      await deleteObjects(
        kc,
        rbac.filter((o) => o.kind!.startsWith('Cluster')),
      );
    }
    await sleep(1000); // the watches' closing entries

    const entries = await auditEntries(paths.auditLog, usernameOf(account), offset);
    const rules = granted(
      rbac.filter((o) => o.kind!.endsWith('Role')).flatMap((role) => (role as k8s.V1Role).rules ?? []),
    );
    const requests = entries.filter((e) => e.objectRef?.resource);
    const used = new Set(requests.flatMap(grantsOf));
    t.diagnostic(`${entries.length} requests; used: ${[...used].sort().join(', ')}`);
    t.diagnostic(
      `not resources (discovery): ${[...new Set(entries.filter((e) => !e.objectRef?.resource).map(grantOf))].join(', ')}`,
    );

    assert.ok(requests.length > 50, `the audit log recorded the operator (${entries.length} entries)`);
    const refused = entries.filter((e) => e.responseStatus?.code === 403);
    assert.deepEqual(describeEntries(refused), '', 'no request of the operator was refused');
    const outside = [...used].filter((grant) => !rules.has(grant));
    assert.deepEqual(outside, [], 'every request is within the rules');
    const elsewhere = requests.filter((e) => (e.objectRef?.namespace ?? namespace) !== namespace);
    assert.deepEqual(describeEntries(elsewhere), '', 'a namespace-scoped operator stays in its namespace');
    const clusterWide = requests.filter((e) => !e.objectRef?.namespace && e.objectRef?.resource !== 'nodes');
    assert.deepEqual(describeEntries(clusterWide), '', 'every informer but the Nodes one is namespaced');

    const unused = [...rules].filter((grant) => !used.has(grant) && !notExercised[grant]).sort();
    assert.deepEqual(unused, [], 'every rule was used (or says why not in notExercised)');
    for (const [grant, why] of Object.entries(notExercised)) {
      assert.ok(rules.has(grant), `${grant} is listed as not exercised but is no rule`);
      t.diagnostic(`${grant}: ${used.has(grant) ? 'used this time' : `not used: ${why}`}`);
    }
  });
});

test("no request of the tests' operators was refused, in any test so far (audit log)", async (t) => {
  assert.ok(existsSync(paths.auditLog), `no audit log at ${paths.auditLog}`);
  const entries = await auditEntries(paths.auditLog, usernameOf(testOperatorAccount));
  t.diagnostic(`${entries.length} requests of ${usernameOf(testOperatorAccount)} so far`);
  const refused = entries.filter((e) => e.responseStatus?.code === 403);
  assert.deepEqual(describeEntries(refused), '');
});
