import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KnownNodes, readSymbolNodeFrom, reportNodeStatusTo } from '../../activities/symbolNodes.js';
import type { ConditionUpdate, NodeRef } from '../../activities/types.js';
import { makeKubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { GROUP, PLURAL, VERSION } from '../../k8s/symbolNode.js';
import { testKubeConfig, withNamespace } from '../support/cluster.js';
import { createSymbolNode, getSymbolNode, saiPeerSpec } from '../support/symbolNodes.js';

/** Clients whose requests are counted by method, e.g. `GET`, `PUT`. */
function countingClients(): { kube: ReturnType<typeof makeKubeClients>; requests: string[] } {
  const kc = testKubeConfig();
  const requests: string[] = [];
  const apply = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    requests.push(`${context.getHttpMethod()} ${context.getUrl().replace(/^https:\/\/[^/]+/, '')}`);
    return apply(context);
  };
  return { kube: makeKubeClients(kc), requests };
}

function condition(type: ConditionUpdate['type'], reason: string): ConditionUpdate {
  return { type, status: 'True' as const, reason, message: reason };
}

test('status writes start from the object this worker wrote last, and a stale one is re-read, never overwritten', async () => {
  await withNamespace('status', async (namespace, kc) => {
    const { kube, requests } = countingClients();
    await installCustomResourceDefinitions(kube);
    const created = await createSymbolNode(kc, namespace, 'theta', saiPeerSpec);
    const ref: NodeRef = { namespace, name: 'theta', uid: created.metadata!.uid! };
    const known = new KnownNodes();

    await readSymbolNodeFrom(kube, known, ref);
    requests.length = 0;
    await reportNodeStatusTo(kube, known, ref, { generation: 1, conditions: [condition('Progressing', 'First')] });
    await reportNodeStatusTo(kube, known, ref, { generation: 1, conditions: [condition('Provisioned', 'Second')] });
    assert.deepEqual(
      requests.map((r) => r.split(' ')[0]),
      ['PUT', 'PUT'],
      'after a read, each status write is one request',
    );

    // Another writer (a second replica) changes the status: this worker's copy is now stale.
    const current = await getSymbolNode(kc, namespace, 'theta');
    await kc.makeApiClient(k8s.CustomObjectsApi).replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      name: 'theta',
      body: { ...current, status: { ...current.status, height: 42 } },
    });
    requests.length = 0;
    await reportNodeStatusTo(kube, known, ref, { generation: 1, conditions: [condition('Ready', 'Third')] });
    assert.deepEqual(
      requests.map((r) => r.split(' ')[0]),
      ['PUT', 'GET', 'PUT'],
      'a stale copy costs one conflict and one read',
    );
    const status = (await getSymbolNode(kc, namespace, 'theta')).status!;
    assert.equal(status.height, 42, "the other writer's field is kept");
    assert.deepEqual(status.conditions?.map((c) => `${c.type}=${c.reason}`).sort(), [
      'Progressing=First',
      'Provisioned=Second',
      'Ready=Third',
    ]);

    // A node deleted and created again under the same name is another node: the old one is gone.
    await kc.makeApiClient(k8s.CustomObjectsApi).deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      name: 'theta',
    });
    await createSymbolNode(kc, namespace, 'theta', saiPeerSpec);
    await assert.rejects(
      reportNodeStatusTo(kube, known, ref, { generation: 1, conditions: [condition('Ready', 'Fourth')] }),
      (error: Error & { type?: string }) => error.type === 'NodeGone',
    );
    const replacement = await getSymbolNode(kc, namespace, 'theta');
    assert.equal(replacement.status?.conditions, undefined, 'the new node keeps its own (empty) status');
  });
});
