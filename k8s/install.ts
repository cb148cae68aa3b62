import * as k8s from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClients } from './client.js';

const crdManifest = new URL('./manifests/crd/symbolnodes.yaml', import.meta.url);

/**
 * Server-side applies the SymbolNode CRD and waits until it is Established. Used by the local
 * stack and the dev operator; a production install applies the same YAML with kubectl.
 */
export async function installCustomResourceDefinitions(kube: KubeClients, timeoutMs = 30_000): Promise<void> {
  const documents = k8s.loadAllYaml(await readFile(crdManifest, 'utf8')) as k8s.V1CustomResourceDefinition[];
  const extensions = kube.config.makeApiClient(k8s.ApiextensionsV1Api);
  for (const crd of documents) {
    await kube.objects.patch(
      crd,
      undefined,
      undefined,
      'symbol-node-operator',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await extensions.readCustomResourceDefinition({ name: crd.metadata!.name! });
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata!.name!} did not become Established`);
      await sleep(100);
    }
  }
}
