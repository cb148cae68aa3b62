/**
 * The operator installed as a cluster admin installs it: the local-stack overlay rendered with the image
 * `npm run image` built, imported into the real node's containerd, run as its ServiceAccount with the manifest's
 * ClusterRole. Ready means the in-cluster configuration, the token and the RBAC let its watchers list and watch
 * SymbolNodes, pods and nodes, and its worker polls Temporal. The install is renamed into a namespace of its own
 * (and its cluster-scoped RBAC gets a unique name) so that it cannot meet another test's operator.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { makeKubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { renderLocalStackInstall } from '../../stack/image/localStackInstall.js';
import { containerPid } from '../../stack/runtime/containerd.js';
import { ensureOperatorImage } from '../../stack/image/operatorImage.js';
import { importImage, realNodeName, realNodeSkipReason } from '../../stack/realNode.js';
import { paths } from '../../stack/versions.js';
import { watchUntil, withNamespace } from '../support/cluster.js';

const installNamespace = 'symbol-node-operator';

/** The rendered install, moved to `namespace`, its cluster-scoped RBAC renamed, the operator confined to `watched`. */
function isolate(objects: k8s.KubernetesObject[], namespace: string, watched: string): k8s.KubernetesObject[] {
  const suffix = namespace.slice(namespace.lastIndexOf('-') + 1);
  return objects
    .filter((o) => o.kind !== 'CustomResourceDefinition' && !o.metadata?.name?.includes(':'))
    .map((object) => {
      const o = structuredClone(object);
      if (o.kind === 'Namespace') o.metadata!.name = namespace;
      else if (o.metadata?.namespace === installNamespace) o.metadata.namespace = namespace;
      if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') o.metadata!.name += `-${suffix}`;
      if (o.kind === 'ClusterRoleBinding') {
        const binding = o as k8s.V1ClusterRoleBinding;
        binding.roleRef.name += `-${suffix}`;
        for (const subject of binding.subjects ?? []) subject.namespace = namespace;
      }
      if (o.kind === 'Deployment') {
        const container = (o as k8s.V1Deployment).spec!.template.spec!.containers[0]!;
        container.env!.push(
          { name: 'SNO_WATCH_NAMESPACE', value: watched },
          { name: 'SNO_TASK_QUEUE', value: `operator-deployment-${suffix}` },
        );
      }
      return o;
    });
}

async function containerLog(namespace: string, pod: k8s.V1Pod): Promise<string[]> {
  const dir = join(paths.realNode.podLogsDir, `${namespace}_${pod.metadata!.name!}_${pod.metadata!.uid!}`, 'operator');
  const files = (await readdir(dir)).sort();
  return (await readFile(join(dir, files[0]!), 'utf8')).trim().split('\n');
}

// A machine without the real node fails here rather than passing these tests as skipped.
describe('operator Deployment on the real node', { timeout: 600_000 }, () => {
  before(() => assert.equal(realNodeSkipReason(), undefined, `the stack has a real node (${realNodeSkipReason()})`));
  it('becomes Ready as its ServiceAccount with the manifest RBAC, quietly, as user 65532', async () => {
    const image = await ensureOperatorImage(() => undefined);
    await importImage(image.archive);
    await withNamespace('operator-watched', async (watched, kc) => {
      const kube = makeKubeClients(kc);
      await installCustomResourceDefinitions(kube); // the installer's part; the operator does not
      const namespace = `sno-install-${randomBytes(3).toString('hex')}`;
      const objects = isolate(
        k8s.loadAllYaml(await renderLocalStackInstall(image.reference)) as k8s.KubernetesObject[],
        namespace,
        watched,
      );
      try {
        for (const object of objects) await kube.objects.create(object);
        const pod = await watchUntil<k8s.V1Pod>(
          kc,
          `/api/v1/namespaces/${namespace}/pods`,
          {},
          (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
          180_000,
        );
        assert.equal(pod.spec?.nodeName, realNodeName);
        assert.equal(pod.spec?.containers[0]?.image, image.reference);
        assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0, 'started once');
        const pid = await containerPid(pod.status.containerStatuses[0].containerID!.slice('containerd://'.length));
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m, 'runs as nonroot');
        assert.match(status, /^NoNewPrivs:\s+1$/m, 'no privilege escalation');
        const log = await containerLog(namespace, pod);
        // CRI log lines: <time> <stream> <tag> <message>
        assert.deepEqual(
          log.filter((line) => line.split(' ')[1] === 'stderr'),
          [],
          'a quiet start: nothing on stderr',
        );
        assert.ok(
          log.some((line) => line.includes(`watching SymbolNodes in ${watched}`)),
          log.join('\n'),
        );
      } finally {
        for (const object of [...objects].reverse()) await kube.objects.delete(object).catch(() => undefined);
      }
    });
  });
});
