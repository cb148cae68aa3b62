/**
 * The install kustomizations (k8s/manifests/install/) as a cluster admin renders them, with the stack's kubectl:
 * what each holds and the properties the Deployment must keep (probes, limits, non-root, read-only root, spread).
 * Rendering only: needs the built kubectl, not a running cluster.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { installDir, kustomize, renderLocalStackInstall, splitReference } from '../../stack/image/localStackInstall.js';
import { loadOperatorConfig } from '../../worker/config.js';

type Rendered = k8s.KubernetesObject[];

async function render(dir: string): Promise<Rendered> {
  return k8s.loadAllYaml(await kustomize(join(installDir, dir))) as Rendered;
}

const kindsOf = (objects: Rendered): string[] => [...new Set(objects.map((o) => o.kind!))].sort();

function one<T extends k8s.KubernetesObject>(objects: Rendered, kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}`);
  return found[0] as T;
}

const operatorContainer = (objects: Rendered): k8s.V1Container =>
  one<k8s.V1Deployment>(objects, 'Deployment').spec!.template.spec!.containers.find((c) => c.name === 'operator')!;

function envOf(container: k8s.V1Container): Record<string, string> {
  const names = (container.env ?? []).map((e) => e.name);
  assert.deepEqual(names, [...new Set(names)], 'no variable set twice');
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
}

const namespacedKinds = new Set([
  'ServiceAccount',
  'Deployment',
  'PodDisruptionBudget',
  'Role',
  'RoleBinding',
  'Service',
  'ConfigMap',
]);

/** The properties every variant keeps: the Deployment's probes, resources, security, and the SA it binds. */
function assertOperatorWorkload(objects: Rendered, replicas: number): void {
  const deployment = one<k8s.V1Deployment>(objects, 'Deployment', 'symbol-node-operator');
  assert.equal(deployment.metadata?.namespace, 'symbol-node-operator');
  assert.equal(deployment.spec?.replicas, replicas);
  const pod = deployment.spec.template.spec!;
  assert.equal(pod.serviceAccountName, 'symbol-node-operator');
  one(objects, 'ServiceAccount', 'symbol-node-operator');
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.runAsUser, 65532);
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.ok((pod.topologySpreadConstraints ?? []).some((c) => c.topologyKey === 'kubernetes.io/hostname'));

  const container = operatorContainer(objects);
  assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
  const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
  assert.ok(tmp && pod.volumes?.find((v) => v.name === tmp.name)?.emptyDir, '/tmp is an emptyDir');
  for (const resource of ['cpu', 'memory']) {
    assert.ok(container.resources?.requests?.[resource], `request ${resource}`);
    assert.ok(container.resources?.limits?.[resource], `limit ${resource}`);
  }

  // The probes reach the health server where the operator's own configuration puts it.
  const env = envOf(container);
  // The key file exists in the pod only; the rest of the settings must parse here.
  const config = loadOperatorConfig({ ...env, TEMPORAL_API_KEY_FILE: undefined });
  const health = container.ports?.find((p) => p.name === 'health');
  assert.equal(health?.containerPort, config.healthPort);
  assert.deepEqual(
    [container.livenessProbe?.httpGet?.path, container.livenessProbe?.httpGet?.port],
    ['/healthz', 'health'],
  );
  assert.deepEqual(
    [container.readinessProbe?.httpGet?.path, container.readinessProbe?.httpGet?.port],
    ['/readyz', 'health'],
  );
  assert.equal(container.startupProbe?.httpGet?.path, '/healthz');
  // Prometheus finds /metrics on the health port (both the annotation and the Service follow the setting).
  const scrape = deployment.spec.template.metadata?.annotations ?? {};
  assert.deepEqual(
    [scrape['prometheus.io/scrape'], scrape['prometheus.io/port'], scrape['prometheus.io/path']],
    ['true', String(config.healthPort), '/metrics'],
  );
  const metricsService = one<k8s.V1Service>(objects, 'Service', 'symbol-node-operator-metrics');
  assert.equal(metricsService.spec?.ports?.find((p) => p.name === 'metrics')?.targetPort, 'health');
  const dashboard = one<k8s.V1ConfigMap>(objects, 'ConfigMap', 'symbol-node-operator-grafana-dashboard');
  assert.equal(dashboard.metadata?.labels?.grafana_dashboard, '1');
  const panels = (JSON.parse(dashboard.data!['symbol-node-operator.json']!) as { panels: { title: string }[] }).panels;
  for (const title of ['Nodes by phase', 'Remediations by reason', 'Alerts sent by reason', 'Chain height by node'])
    assert.ok(
      panels.some((panel) => panel.title === title),
      `dashboard panel ${title}`,
    );
  assert.equal(config.installCrds, false, 'the installer applies the CRD, not the operator');
  assert.equal(env.SNO_OPERATOR_IMAGE, container.image, 'seed-init runs from the operator image');

  const budget = one<k8s.V1PodDisruptionBudget>(objects, 'PodDisruptionBudget');
  assert.equal(budget.spec?.minAvailable, 1);
  const podLabels = deployment.spec.template.metadata!.labels!;
  for (const [key, value] of Object.entries(budget.spec.selector!.matchLabels!)) assert.equal(podLabels[key], value);

  one(objects, 'CustomResourceDefinition', 'symbolnodes.symbol.nodeoperator.io');
  for (const object of objects) {
    if (!namespacedKinds.has(object.kind!)) continue;
    assert.ok(object.metadata?.namespace, `${object.kind} ${object.metadata?.name} has a namespace`);
  }
}

function boundSubjects(objects: Rendered): string[] {
  return objects
    .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
    .filter(
      (o) =>
        (o as k8s.V1RoleBinding).roleRef.name.startsWith('symbol-node-operator') && !o.metadata!.name!.includes(':'),
    )
    .flatMap((o) =>
      (o as k8s.V1RoleBinding).subjects!.map(
        (s) => `${o.kind}/${o.metadata!.name} -> ${s.kind}/${s.namespace}/${s.name}`,
      ),
    );
}

describe('install manifests (kubectl kustomize)', () => {
  let base: Rendered;
  before(async () => {
    base = await render('base');
  });

  it('base: namespace, CRD, cluster-wide RBAC bound to the ServiceAccount, 2 replicas with probes', () => {
    for (const kind of [
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'PodDisruptionBudget',
    ]) {
      assert.ok(kindsOf(base).includes(kind), kind);
    }
    assert.equal(one<k8s.V1Namespace>(base, 'Namespace').metadata?.name, 'symbol-node-operator');
    assertOperatorWorkload(base, 2);
    assert.equal(envOf(operatorContainer(base)).SNO_WATCH_NAMESPACE, undefined, 'watches all namespaces');
    one(base, 'ClusterRole', 'symbol-node-operator');
    for (const binding of boundSubjects(base)) {
      assert.match(binding, /-> ServiceAccount\/symbol-node-operator\/symbol-node-operator$/);
    }
    assert.ok(boundSubjects(base).length > 0);
    assert.ok(!kindsOf(base).includes('Role'));
  });

  it('namespaced: a Role in the watched namespace, no ClusterRole over namespaced resources', async () => {
    const rendered = await render('overlays/namespaced');
    assertOperatorWorkload(rendered, 2);
    const watched = envOf(operatorContainer(rendered)).SNO_WATCH_NAMESPACE;
    assert.ok(watched, 'SNO_WATCH_NAMESPACE is set');
    const role = one<k8s.V1Role>(rendered, 'Role', 'symbol-node-operator');
    assert.equal(role.metadata?.namespace, watched, 'the Role lives where the operator watches');
    assert.ok(role.rules?.some((rule) => rule.resources?.includes('symbolnodes')));
    for (const clusterRole of rendered.filter((o) => o.kind === 'ClusterRole') as k8s.V1ClusterRole[]) {
      for (const rule of clusterRole.rules ?? []) {
        assert.deepEqual(rule.resources, ['nodes'], `${clusterRole.metadata?.name}: only Nodes cluster-wide`);
        assert.ok(
          rule.verbs.every((verb) => ['get', 'list', 'watch'].includes(verb)),
          'read-only',
        );
      }
    }
    assert.equal(one<k8s.V1RoleBinding>(rendered, 'RoleBinding').metadata?.namespace, watched);
    for (const binding of boundSubjects(rendered)) {
      assert.match(binding, /-> ServiceAccount\/symbol-node-operator\/symbol-node-operator$/);
    }
    assert.equal(one(rendered, 'Deployment').metadata?.namespace, 'symbol-node-operator');
  });

  it('temporal-tls: the client certificate Secret mounted and named by TEMPORAL_TLS_*', async () => {
    const rendered = await render('overlays/temporal-tls');
    assertOperatorWorkload(rendered, 2);
    const container = operatorContainer(rendered);
    const pod = one<k8s.V1Deployment>(rendered, 'Deployment').spec!.template.spec!;
    const volume = pod.volumes?.find((v) => v.secret?.secretName === 'temporal-client-tls');
    assert.ok(volume, 'Secret volume');
    const mount = container.volumeMounts?.find((m) => m.name === volume.name);
    assert.equal(mount?.readOnly, true);
    const tls = loadOperatorConfig(envOf(container)).temporalTls;
    assert.equal(tls.enabled, true);
    assert.equal(tls.certFile, `${mount.mountPath}/tls.crt`);
    assert.equal(tls.keyFile, `${mount.mountPath}/tls.key`);
  });

  it('temporal-api-key: the key is a file from a Secret, never an environment value', async () => {
    const rendered = await render('overlays/temporal-api-key');
    assertOperatorWorkload(rendered, 2);
    const container = operatorContainer(rendered);
    const env = envOf(container);
    assert.equal(env.TEMPORAL_API_KEY, undefined);
    const pod = one<k8s.V1Deployment>(rendered, 'Deployment').spec!.template.spec!;
    const volume = pod.volumes?.find((v) => v.secret?.secretName === 'temporal-api-key');
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    assert.ok(mount && env.TEMPORAL_API_KEY_FILE?.startsWith(`${mount.mountPath}/`));
  });

  it('local-stack: one replica on the real node in the host network, with the image the code sets', async () => {
    const reference = 'localhost/symbol-node-operator:0123456789abcdef';
    const rendered = k8s.loadAllYaml(await renderLocalStackInstall(reference)) as Rendered;
    assertOperatorWorkload(rendered, 1);
    const container = operatorContainer(rendered);
    assert.equal(container.image, reference);
    const pod = one<k8s.V1Deployment>(rendered, 'Deployment').spec!.template.spec!;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.nodeSelector?.['stack.symbol.nodeoperator.io/real-node'], 'true');
    assert.ok(
      pod.tolerations?.some(
        (t) => t.key === 'stack.symbol.nodeoperator.io/real-node' && t.value === 'true' && t.effect === 'NoSchedule',
      ),
    );
    const env = envOf(container);
    assert.equal(env.KUBERNETES_SERVICE_HOST, '127.0.0.1');
    assert.equal(env.KUBERNETES_SERVICE_PORT, '16443');
    assert.equal(env.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    const namespace = one<k8s.V1Namespace>(rendered, 'Namespace');
    assert.equal(
      namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce'],
      'privileged',
      'hostNetwork admitted',
    );
    assert.deepEqual(splitReference('localhost:5000/a/b'), { name: 'localhost:5000/a/b', tag: 'latest' });
    assert.deepEqual(splitReference('localhost:5000/a/b:v1'), { name: 'localhost:5000/a/b', tag: 'v1' });
  });
});
