import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  loadAllYaml,
  type KubernetesObject,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1PolicyRule,
  type V1Role,
  type V1RoleBinding,
} from '@kubernetes/client-node';

import {
  buildCertificatesSecret,
  buildHarvestingSecret,
  buildHeadlessService,
  buildIdentitySecret,
  buildMongoScriptsConfigMap,
  buildResourcesConfigMap,
  buildRestConfigMap,
  buildService,
  buildStatefulSet,
  CERTIFICATE_FILES,
} from '../../k8s/objects/index.js';
import { GROUP, PLURAL } from '../../k8s/symbolNode.js';
import { repoRoot } from '../support/paths.js';
import { API_IMAGES, context, parsed } from './k8s-fixtures.js';

const text = readFileSync(join(repoRoot, 'k8s/manifests/rbac/operator-rbac.yaml'), 'utf8');
const docs = loadAllYaml(text) as KubernetesObject[];
const ofKind = <T extends KubernetesObject>(kind: string) => docs.filter((d) => d.kind === kind) as T[];
const operatorRole = ofKind<V1ClusterRole>('ClusterRole').find((r) => r.metadata?.name === 'symbol-node-operator');

function allows(rules: V1PolicyRule[] | undefined, group: string, resource: string, verb: string): boolean {
  return (rules ?? []).some(
    (r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb),
  );
}

/** apiVersion → API group ('' for core). */
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
const plural = (kind: string) => `${kind.toLowerCase()}s`;

void describe('operator RBAC', () => {
  void it('binds roles and accounts that exist in the same manifest', () => {
    const accounts = ofKind('ServiceAccount').map((a) => `${a.metadata?.namespace}/${a.metadata?.name}`);
    const namespaces = ofKind('Namespace').map((n) => n.metadata?.name);
    for (const b of [...ofKind<V1ClusterRoleBinding>('ClusterRoleBinding'), ...ofKind<V1RoleBinding>('RoleBinding')]) {
      const target = ofKind<V1ClusterRole | V1Role>(b.roleRef.kind).find(
        (r) =>
          r.metadata?.name === b.roleRef.name &&
          (b.kind === 'ClusterRoleBinding' || r.metadata?.namespace === b.metadata?.namespace),
      );
      assert.ok(target, `${b.kind} ${b.metadata?.name} binds ${b.roleRef.kind} ${b.roleRef.name}, which must exist`);
      for (const s of b.subjects ?? []) {
        assert.equal(s.kind, 'ServiceAccount');
        assert.ok(accounts.includes(`${s.namespace ?? b.metadata?.namespace}/${s.name}`), `subject ${s.name}`);
      }
    }
    for (const a of ofKind('ServiceAccount')) assert.ok(namespaces.includes(a.metadata?.namespace));
    assert.ok(operatorRole, 'the operator ClusterRole exists');
    assert.ok(
      ofKind<V1ClusterRoleBinding>('ClusterRoleBinding').some((b) => b.roleRef.name === operatorRole.metadata?.name),
      'and is bound',
    );
  });

  void it('lets the operator create and update every object kind the builders produce', () => {
    const node = parsed({ role: 'dual', ...API_IMAGES, harvester: true });
    const pem = '-----BEGIN X-----\n-----END X-----\n';
    const built: KubernetesObject[] = [
      buildStatefulSet(node, context()),
      buildService(node),
      buildHeadlessService(node),
      buildResourcesConfigMap(node, {}),
      buildRestConfigMap(node, '{}'),
      buildMongoScriptsConfigMap(node, { 'mongoDbPrepare.js': '' }),
      buildCertificatesSecret(node, Object.fromEntries(CERTIFICATE_FILES.map((f) => [f, pem])) as never),
      buildIdentitySecret(node, '00'.repeat(32)),
      buildHarvestingSecret(node, ''),
    ];
    for (const obj of built) {
      for (const verb of ['get', 'create', 'update', 'patch', 'delete']) {
        assert.ok(
          allows(operatorRole?.rules, groupOf(obj.apiVersion!), plural(obj.kind!), verb),
          `${verb} ${obj.kind}`,
        );
      }
    }
  });

  void it('covers what the controller reads and watches', () => {
    const rules = operatorRole?.rules;
    for (const verb of ['get', 'list', 'watch', 'patch', 'update'])
      assert.ok(allows(rules, GROUP, PLURAL, verb), `${verb} symbolnodes`);
    for (const verb of ['patch', 'update']) assert.ok(allows(rules, GROUP, `${PLURAL}/status`, verb), `${verb} status`);
    assert.ok(allows(rules, GROUP, `${PLURAL}/finalizers`, 'update'), 'blockOwnerDeletion needs finalizers update');
    for (const group of ['', 'events.k8s.io'])
      for (const verb of ['create', 'patch']) assert.ok(allows(rules, group, 'events', verb));
    for (const verb of ['get', 'list', 'watch', 'delete']) assert.ok(allows(rules, '', 'pods', verb), `${verb} pods`);
    for (const verb of ['create', 'get', 'list', 'watch', 'delete'])
      assert.ok(allows(rules, 'batch', 'jobs', verb), `${verb} jobs`);
    for (const verb of ['get', 'list', 'watch']) assert.ok(allows(rules, '', 'nodes', verb), `${verb} nodes`);
    for (const verb of ['get', 'patch']) assert.ok(allows(rules, '', 'persistentvolumeclaims', verb), `${verb} PVCs`);
    const lease = ofKind<V1Role>('Role').find((r) => allows(r.rules, 'coordination.k8s.io', 'leases', 'update'));
    assert.ok(lease?.metadata?.namespace, 'leases are granted in the operator namespace only');
    assert.ok(!allows(rules, 'coordination.k8s.io', 'leases', 'update'), 'not cluster-wide');
  });

  void it('grants no more than needed', () => {
    for (const role of [...ofKind<V1ClusterRole>('ClusterRole'), ...ofKind<V1Role>('Role')]) {
      for (const r of role.rules ?? []) {
        const all = [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs];
        assert.ok(!all.includes('*'), `${role.metadata?.name}: no wildcards`);
        for (const verb of ['escalate', 'bind', 'impersonate'])
          assert.ok(!r.verbs.includes(verb), `${role.metadata?.name}: ${verb}`);
      }
    }
    const rules = operatorRole?.rules;
    assert.ok(
      !allows(rules, '', 'secrets', 'list') && !allows(rules, '', 'secrets', 'watch'),
      'Secrets are read by name only',
    );
    assert.ok(!allows(rules, '', 'pods/exec', 'create'), 'no exec into node pods');
    assert.ok(!allows(rules, 'apiextensions.k8s.io', 'customresourcedefinitions', 'create'));
    assert.ok(
      !allows(rules, '', 'persistentvolumeclaims', 'delete'),
      'data is deleted through the retention policy only',
    );
  });

  void it('documents each rule beside the manifest', () => {
    for (const resource of ['symbolnodes/status', 'secrets', 'statefulsets', 'pods', 'jobs', 'nodes', 'leases']) {
      assert.ok(new RegExp(`^#.*${resource.replace('/', '\\/')}`, 'm').test(text), `header mentions ${resource}`);
    }
  });
});
