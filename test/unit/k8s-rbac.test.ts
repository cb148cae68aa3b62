/**
 * The operator's RBAC manifests, read as files (no cluster): what they bind, that each rule names the code that
 * needs it, that both installs grant the same, and that the rules match the Kubernetes calls found in the
 * operator's source, in both directions. test/integration/rbac-recorded.test.ts checks the same against the
 * requests the API server really saw.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';

import {
  buildCertificatesSecret,
  buildHarvestingSecret,
  buildHeadlessService,
  buildIdentitySecret,
  buildMongoScriptsConfigMap,
  buildRecoveryJob,
  buildResourcesConfigMap,
  buildRestConfigMap,
  buildService,
  buildStatefulSet,
  CERTIFICATE_FILES,
} from '../../k8s/objects/index.js';
import { GROUP, PLURAL } from '../../k8s/symbolNode.js';
import { repoRoot } from '../support/paths.js';
import { API_IMAGES, context, parsed } from './k8s-fixtures.js';

type Rule = k8s.V1PolicyRule;
interface Manifest {
  file: string;
  text: string;
  objects: k8s.KubernetesObject[];
}

/** The files a kustomization includes, following directories (what `kubectl kustomize` reads). */
function kustomizationFiles(dir: string): Manifest[] {
  const kustomization = k8s.loadYaml<{ resources?: string[] }>(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  return (kustomization.resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return kustomizationFiles(path);
    const text = readFileSync(path, 'utf8');
    return [{ file: relative(repoRoot, path), text, objects: k8s.loadAllYaml(text) as k8s.KubernetesObject[] }];
  });
}

const clusterDir = join(repoRoot, 'k8s/manifests/rbac');
const namespacedDir = join(repoRoot, 'k8s/manifests/rbac-namespaced');
const cluster = kustomizationFiles(clusterDir);
const namespaced = kustomizationFiles(namespacedDir);
const objectsOf = (manifests: Manifest[]) => manifests.flatMap((m) => m.objects);
const find = <T extends k8s.KubernetesObject>(manifests: Manifest[], kind: string, name: string) =>
  objectsOf(manifests).find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;

const operatorRole = find<k8s.V1ClusterRole>(cluster, 'ClusterRole', 'symbol-node-operator');
const namespacedRole = find<k8s.V1Role>(namespaced, 'Role', 'symbol-node-operator');
const nodesRole = find<k8s.V1ClusterRole>(namespaced, 'ClusterRole', 'symbol-node-operator-nodes');
const operatorAccount = { kind: 'ServiceAccount', name: 'symbol-node-operator', namespace: 'symbol-node-operator' };

/** Every (verb, group, resource) a set of rules grants, as `verb group/resource` strings. */
function grants(rules: Rule[] | undefined): Set<string> {
  return new Set(
    (rules ?? []).flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))),
    ),
  );
}
const sorted = (set: Set<string>) => [...set].sort();

/** Where each resource lives: a namespaced install may hold only the namespaced ones in its Role. */
const scopeOf: Record<string, 'namespaced' | 'cluster'> = {
  [`${GROUP}/${PLURAL}`]: 'namespaced',
  [`${GROUP}/${PLURAL}/status`]: 'namespaced',
  [`${GROUP}/${PLURAL}/finalizers`]: 'namespaced',
  '/events': 'namespaced',
  '/configmaps': 'namespaced',
  '/secrets': 'namespaced',
  '/services': 'namespaced',
  '/persistentvolumeclaims': 'namespaced',
  '/pods': 'namespaced',
  'apps/statefulsets': 'namespaced',
  'batch/jobs': 'namespaced',
  '/nodes': 'cluster',
};

void describe('operator RBAC manifests', () => {
  void it('are kustomizations that include every manifest beside them, and nothing else', () => {
    for (const [dir, manifests] of [
      [clusterDir, cluster],
      [namespacedDir, namespaced],
    ] as const) {
      const onDisk = (readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'))
        .map((f) => relative(repoRoot, join(dir, f)))
        .sort();
      assert.deepEqual(manifests.map((m) => m.file).sort(), onDisk, `${relative(repoRoot, dir)}: no stray files`);
      for (const o of objectsOf(manifests)) {
        assert.ok(
          ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind!),
          `${o.kind}: the Namespace and ServiceAccount come with the operator's kustomization`,
        );
        assert.equal(o.metadata?.namespace, undefined, `${o.kind} ${o.metadata?.name}: the kustomization places it`);
      }
    }
    const kustomization = k8s.loadYaml<{ namespace?: string }>(
      readFileSync(join(namespacedDir, 'kustomization.yaml'), 'utf8'),
    );
    assert.ok(kustomization.namespace, 'the namespaced install names its watched namespace');
  });

  void it("bind the operator's roles, defined beside them, to its ServiceAccount only", () => {
    for (const manifests of [cluster, namespaced]) {
      const bindings = objectsOf(manifests).filter((o) => o.kind!.endsWith('Binding')) as k8s.V1RoleBinding[];
      assert.ok(bindings.length > 0);
      for (const b of bindings) {
        assert.ok(find(manifests, b.roleRef.kind, b.roleRef.name), `${b.metadata?.name} binds a role defined here`);
        assert.equal(b.kind === 'RoleBinding', b.roleRef.kind === 'Role', 'a Role by a RoleBinding only');
        const subjects = (b.subjects ?? []).map(({ kind, name, namespace }) => ({ kind, name, namespace }));
        assert.deepEqual(subjects, [operatorAccount], `${b.metadata?.name}: the operator's account, always`);
      }
    }
    for (const role of [operatorRole, namespacedRole, nodesRole]) assert.ok(role, 'the operator roles exist');
    const bound = (manifests: Manifest[]) =>
      objectsOf(manifests).flatMap((o) => (o.kind!.endsWith('Binding') ? [(o as k8s.V1RoleBinding).roleRef.name] : []));
    assert.deepEqual(bound(cluster), ['symbol-node-operator'], 'the edit/view roles are for people, never bound here');
    assert.deepEqual(bound(namespaced).sort(), ['symbol-node-operator', 'symbol-node-operator-nodes']);
    // The account is the install's: wherever another manifest defines it, it is where the bindings say.
    for (const file of readdirSync(join(repoRoot, 'k8s/manifests'), { recursive: true }) as string[]) {
      if (!file.endsWith('.yaml') || file.startsWith('rbac')) continue;
      for (const o of k8s.loadAllYaml(readFileSync(join(repoRoot, 'k8s/manifests', file), 'utf8')))
        if (
          (o as k8s.KubernetesObject)?.kind === 'ServiceAccount' &&
          (o as k8s.V1ServiceAccount).metadata?.name === operatorAccount.name
        )
          assert.ok(
            [undefined, operatorAccount.namespace].includes((o as k8s.V1ServiceAccount).metadata?.namespace),
            file,
          );
    }
  });

  void it('grant the same to a cluster-wide and a namespace-scoped operator', () => {
    const all = grants(operatorRole?.rules);
    assert.deepEqual(sorted(new Set([...grants(namespacedRole?.rules), ...grants(nodesRole?.rules)])), sorted(all));
    for (const grant of all) assert.ok(scopeOf[grant.split(' ')[1]!], `${grant}: say where the resource lives`);
    for (const grant of grants(namespacedRole?.rules))
      assert.equal(scopeOf[grant.split(' ')[1]!], 'namespaced', `${grant} in the Role`);
    for (const grant of grants(nodesRole?.rules))
      assert.equal(scopeOf[grant.split(' ')[1]!], 'cluster', `${grant}: only cluster-scoped reads outside the Role`);
  });

  void it('name, for every verb of every rule, the code that needs it', () => {
    for (const manifest of [...cluster, ...namespaced]) {
      const roles = manifest.objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as k8s.V1Role[];
      if (roles.some((r) => r.metadata?.name?.startsWith('symbol-node-operator:'))) continue; // people's roles
      const lines = manifest.text.split('\n');
      const starts = lines.flatMap((line, i) => (/^\s*- apiGroups:/.test(line) ? [i] : []));
      const rules = roles.flatMap((r) => r.rules ?? []);
      assert.equal(starts.length, rules.length, manifest.file);
      starts.forEach((start, index) => {
        const rule = rules[index]!;
        const what = `${manifest.file}: rule ${rule.resources?.join(',')}`;
        let first = start;
        while (first > 0 && lines[first - 1]!.trim().startsWith('#')) first--;
        const entries: { verbs: string[]; text: string }[] = [];
        for (const line of lines.slice(first, start).map((l) => l.trim().replace(/^#\s?/, ''))) {
          const entry = /^([a-z]+(?:, [a-z]+)*): (.*)$/.exec(line);
          if (entry) entries.push({ verbs: entry[1]!.split(', '), text: entry[2]! });
          else if (entries.length > 0) entries.at(-1)!.text += ` ${line}`;
        }
        assert.deepEqual(
          [...new Set(entries.flatMap((e) => e.verbs))].sort(),
          [...rule.verbs].sort(),
          `${what}: one comment line per verb`,
        );
        for (const { text } of entries) {
          const references = [...text.matchAll(/\b((?:worker|activities|k8s)\/[\w/]+\.ts) ([A-Za-z_]\w*(?:\.\w+)?)/g)];
          assert.ok(references.length > 0, `${what}: "${text}" names <file> <function>`);
          for (const [, file, name] of references) {
            assert.ok(existsSync(join(repoRoot, file!)), `${what}: ${file} exists`);
            const source = readFileSync(join(repoRoot, file!), 'utf8');
            for (const part of name!.split('.'))
              assert.match(
                source,
                new RegExp(
                  `(?:function|class|const)\\s+${part}\\b|^\\s*(?:private |async |static )*${part}\\s*[(<]`,
                  'm',
                ),
                `${what}: ${file} defines ${part}`,
              );
          }
        }
      });
    }
  });

  void it('grant no more than needed', () => {
    for (const role of objectsOf([...cluster, ...namespaced]).filter((o) => o.kind!.endsWith('Role')) as k8s.V1Role[]) {
      for (const r of role.rules ?? []) {
        const all = [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs];
        assert.ok(!all.includes('*'), `${role.metadata?.name}: no wildcards`);
        assert.equal(r.resourceNames, undefined);
        for (const verb of ['escalate', 'bind', 'impersonate']) assert.ok(!r.verbs.includes(verb), verb);
      }
    }
    const granted = grants(operatorRole?.rules);
    for (const denied of [
      'list /secrets', // Secrets are read by name: no list or watch of every Secret in reach
      'watch /secrets',
      'delete /secrets',
      'delete /persistentvolumeclaims', // data goes with the retention policy only
      'create /pods/exec',
      `patch ${GROUP}/${PLURAL}`, // the spec is the user's
      `update ${GROUP}/${PLURAL}`,
      'patch apiextensions.k8s.io/customresourcedefinitions', // the CRD is installed by the admin
      'update coordination.k8s.io/leases',
    ])
      assert.ok(!granted.has(denied), denied);
    for (const grant of granted)
      assert.ok(!grant.startsWith('delete ') || grant === 'delete /pods', `${grant}: only pods are deleted`);
  });

  void it("match the Kubernetes calls in the operator's source, in both directions", () => {
    const found = codeCalls();
    const granted = grants(operatorRole?.rules);
    const missing = [...found.keys()].filter((call) => !granted.has(call));
    assert.deepEqual(missing, [], `called but not granted: ${missing.map((m) => `${m} (${found.get(m)})`).join('; ')}`);
    // Owner references with blockOwnerDeletion are authorized by an admission plugin, not a request of their own.
    const noRequest = new Set([`update ${GROUP}/${PLURAL}/finalizers`]);
    const unused = sorted(granted).filter((grant) => !found.has(grant) && !noRequest.has(grant));
    assert.deepEqual(unused, [], 'granted but never called');
  });
});

// ---- the operator's calls, read from its source ----

const apis: [group: string, api: object][] = [
  ['', k8s.CoreV1Api.prototype],
  ['apps', k8s.AppsV1Api.prototype],
  ['batch', k8s.BatchV1Api.prototype],
  [GROUP, k8s.CustomObjectsApi.prototype], // the operator's only custom resource
];
const verbs: Record<string, string> = { list: 'list', read: 'get', get: 'get', create: 'create', patch: 'patch' };
Object.assign(verbs, { replace: 'update', delete: 'delete' });
const kinds: Record<string, string> = {
  PersistentVolumeClaim: 'persistentvolumeclaims',
  StatefulSet: 'statefulsets',
  CustomObject: PLURAL,
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Service: 'services',
  Event: 'events',
  Node: 'nodes',
  Pod: 'pods',
  Job: 'jobs',
};

/** `replaceNamespacedCustomObjectStatus` → `update symbol.nodeoperator.io/symbolnodes/status`. */
function grantOfMethod(group: string, method: string): string {
  const [, verb, rest] = /^([a-z]+)(.*)$/.exec(method)!;
  const stripped = rest!.replace(/^(Namespaced|Cluster)/, '').replace(/ForAllNamespaces$/, '');
  const kind = Object.keys(kinds).find((k) => stripped.startsWith(k));
  assert.ok(verbs[verb!] && kind, `${method}: add its verb and kind to the table of k8s-rbac.test.ts`);
  const subresource = stripped.slice(kind.length).toLowerCase();
  return `${verbs[verb!]} ${group}/${kinds[kind]}${subresource ? `/${subresource}` : ''}`;
}

/** What each applied builder makes (server-side apply: a PATCH, which the API server also authorizes as a create when the object is new). */
function appliedKinds(): Record<string, k8s.KubernetesObject> {
  const node = parsed({ role: 'dual', ...API_IMAGES, harvester: true });
  const pem = '-----BEGIN X-----\n-----END X-----\n';
  return {
    buildStatefulSet: buildStatefulSet(node, context()),
    buildService: buildService(node),
    buildHeadlessService: buildHeadlessService(node),
    buildResourcesConfigMap: buildResourcesConfigMap(node, {}),
    buildRestConfigMap: buildRestConfigMap(node, '{}'),
    buildMongoScriptsConfigMap: buildMongoScriptsConfigMap(node, { 'mongoDbPrepare.js': '' }),
    buildCertificatesSecret: buildCertificatesSecret(
      node,
      Object.fromEntries(CERTIFICATE_FILES.map((f) => [f, pem])) as never,
    ),
    buildIdentitySecret: buildIdentitySecret(node, '00'.repeat(32)),
    buildHarvestingSecret: buildHarvestingSecret(node, ''),
    buildRecoveryJob: buildRecoveryJob(node, { run: 1, attempt: 1, reason: 'x' }),
  };
}

/**
 * Every typed client call in worker/, activities/ and k8s/ (an informer's list implies its watch: makeInformer, or the cache's CachedInformer), and a patch
 * of each builder's kind in a file that applies objects. k8s/install.ts is left out: the CRD install at start is
 * for the local stack (SNO_INSTALL_CRDS); a production install applies the CRD with kubectl.
 */
function codeCalls(): Map<string, string> {
  const calls = new Map<string, string>();
  const add = (grant: string, where: string) => calls.set(grant, [calls.get(grant), where].filter(Boolean).join(', '));
  const built = appliedKinds();
  for (const dir of ['worker', 'activities', 'k8s']) {
    for (const file of readdirSync(join(repoRoot, dir), { recursive: true }) as string[]) {
      const path = `${dir}/${file}`;
      if (!path.endsWith('.ts') || path === 'k8s/install.ts') continue;
      const source = readFileSync(join(repoRoot, path), 'utf8');
      assert.doesNotMatch(
        source,
        /new k8s\.Watch\b|\bobjects\.(?!patch\b)\w+\(/,
        `${path}: a call this test cannot see`,
      );
      for (const [, method] of source.matchAll(/\.(\w+)\s*\(/g)) {
        const owners = apis.filter(([, api]) => Object.getOwnPropertyNames(api).includes(method!));
        if (owners.length === 0 || method === 'constructor' || method!.endsWith('WithHttpInfo')) continue;
        assert.equal(owners.length, 1, `${method}: one API class`);
        const grant = grantOfMethod(owners[0]![0], method!);
        add(grant, path);
        if (grant.startsWith('list ') && /\bmakeInformer\b|\bnew CachedInformer\b/.test(source))
          add(grant.replace(/^list/, 'watch'), path);
      }
      if (/\bapplyObject\(/.test(source) && !path.endsWith('/apply.ts')) {
        for (const [name, object] of Object.entries(built)) {
          if (!new RegExp(`\\b${name}\\(`).test(source)) continue;
          const group = object.apiVersion!.includes('/') ? object.apiVersion!.split('/')[0] : '';
          for (const verb of ['patch', 'create'])
            add(`${verb} ${group}/${object.kind!.toLowerCase()}s`, `${path} ${name}`);
        }
      }
    }
  }
  return calls;
}
