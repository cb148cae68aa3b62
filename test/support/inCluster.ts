/**
 * The operator installed the way a cluster admin installs it: its image (built offline by `npm run image`) imported
 * into the real node's containerd, the local-stack install overlay rendered by kubectl kustomize and applied, running
 * as its ServiceAccount with the manifest RBAC only. Tests use admin credentials for setup and assertions.
 */
import * as k8s from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderLocalStackInstall } from '../../stack/image/localStackInstall.js';
import { ensureOperatorImage } from '../../stack/image/operatorImage.js';
import { importImage } from '../../stack/realNode.js';
import { repoRoot } from './paths.js';
import { saveOperatorPodLogs } from './secretLedger.js';

export const OPERATOR_NAMESPACE = 'symbol-node-operator';
const DEPLOYMENT = 'symbol-node-operator';
/** Holds the public sai package for the in-cluster operator: no internet here, and none needed. */
const PACKAGES_CONFIGMAP = 'network-packages';
const PACKAGES_DIR = '/etc/symbol-node-operator/packages';

type Env = k8s.V1EnvVar[];

/** The rendered install with what this test run needs: one watched namespace, its own task queue, the sai package. */
function adaptForTest(objects: k8s.KubernetesObject[], watchNamespace: string, taskQueue: string): void {
  const deployment = objects.find((o): o is k8s.V1Deployment => o.kind === 'Deployment');
  const pod = deployment?.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === 'operator');
  if (!pod || !container) throw new Error('the install renders no operator Deployment');
  const extra: Env = [
    { name: 'SNO_WATCH_NAMESPACE', value: watchNamespace },
    { name: 'SNO_TASK_QUEUE', value: taskQueue },
    { name: 'SNO_NETWORK_PACKAGE_SAI', value: `${PACKAGES_DIR}/sai.zip` },
  ];
  container.env = [...(container.env ?? []).filter((e) => !extra.some((x) => x.name === e.name)), ...extra];
  container.volumeMounts = [
    ...(container.volumeMounts ?? []),
    { name: 'network-packages', mountPath: PACKAGES_DIR, readOnly: true },
  ];
  pod.volumes = [...(pod.volumes ?? []), { name: 'network-packages', configMap: { name: PACKAGES_CONFIGMAP } }];
}

async function apply(kc: k8s.KubeConfig, objects: k8s.KubernetesObject[]): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) {
    await client.patch(
      object,
      undefined,
      undefined,
      'symbol-node-operator-tests',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  }
}

export interface InClusterOperator {
  image: string;
  /** The operator pod's log so far (for failure messages). */
  logs(): Promise<string>;
  uninstall(): Promise<void>;
}

async function waitAvailable(kc: k8s.KubeConfig, timeoutMs: number): Promise<void> {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await apps.readNamespacedDeployment({ namespace: OPERATOR_NAMESPACE, name: DEPLOYMENT });
    const current = d.status?.observedGeneration === d.metadata?.generation;
    if (current && (d.status?.availableReplicas ?? 0) >= 1 && (d.status?.updatedReplicas ?? 0) >= 1) return;
    if (Date.now() > deadline) throw new Error(`operator Deployment not available: ${JSON.stringify(d.status)}`);
    await sleep(500);
  }
}

/** Builds (cached by content) and imports the operator image, installs it for `watchNamespace`, waits until Ready. */
export async function installOperatorInCluster(
  kc: k8s.KubeConfig,
  watchNamespace: string,
  taskQueue: string,
  log: (line: string) => void = () => undefined,
): Promise<InClusterOperator> {
  const image = await ensureOperatorImage(log);
  await importImage(image.archive);
  const objects = k8s.loadAllYaml(await renderLocalStackInstall(image.reference)) as k8s.KubernetesObject[];
  adaptForTest(objects, watchNamespace, taskQueue);
  const namespaceFirst = [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
  const deployment = namespaceFirst.filter((o) => o.kind === 'Deployment');
  await apply(
    kc,
    namespaceFirst.filter((o) => o.kind !== 'Deployment'),
  );
  const sai = await readFile(join(repoRoot, '..', 'shared', 'networks', 'sai.zip'));
  await apply(kc, [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: PACKAGES_CONFIGMAP, namespace: OPERATOR_NAMESPACE },
      binaryData: { 'sai.zip': sai.toString('base64') },
    } as k8s.V1ConfigMap,
  ]);
  await apply(kc, deployment);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const logs = async (): Promise<string> => {
    const pods = await core.listNamespacedPod({
      namespace: OPERATOR_NAMESPACE,
      labelSelector: 'app.kubernetes.io/name=symbol-node-operator',
    });
    const texts = await Promise.all(
      pods.items.map((p) =>
        core
          .readNamespacedPodLog({ namespace: OPERATOR_NAMESPACE, name: p.metadata!.name!, tailLines: 200 })
          .then((text) => `--- ${p.metadata!.name!}\n${text}`)
          .catch((error: unknown) => `--- ${p.metadata!.name!}: no log (${String(error)})`),
      ),
    );
    return texts.join('\n');
  };
  try {
    await waitAvailable(kc, 120_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await logs()}`);
  }
  return {
    image: image.reference,
    logs,
    uninstall: async () => {
      // Its log goes with its pod: kept for the final secret scan (test/final/secret-scan.test.ts).
      await saveOperatorPodLogs(kc, OPERATOR_NAMESPACE, 'app.kubernetes.io/name=symbol-node-operator').catch(
        (error: unknown) => console.error(`could not save the in-cluster operator's log: ${String(error)}`),
      );
      await kc
        .makeApiClient(k8s.AppsV1Api)
        .deleteNamespacedDeployment({ namespace: OPERATOR_NAMESPACE, name: DEPLOYMENT, gracePeriodSeconds: 5 })
        .catch(() => undefined);
    },
  };
}
