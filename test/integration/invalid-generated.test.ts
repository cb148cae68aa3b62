/**
 * R5: generated invalid SymbolNodes (test/support/invalidSpecs.ts, fast-check with a fixed seed) against the real
 * API server and the operator. Each case carries its verdict from the generator: refused at admission (422 naming
 * the field), or accepted and then refused by the operator (Ready=False and Degraded=True with the precise reason,
 * a Warning Event with it, no StatefulSet). Throughout, a valid node created before keeps its status, and the
 * operator still provisions a valid node created after.
 *
 * The seed is printed; SNO_INVALID_SEED replays or explores another one.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { sampleInvalidCases, type InvalidCase } from '../support/invalidSpecs.js';
import { withOperator } from '../support/operator.js';
import { conditionOf, createSymbolNode, getSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const seed = Number(process.env.SNO_INVALID_SEED ?? 20261202);
/** 29 kinds × 2 = 58 nodes: every field of the spec is broken at least twice a run. */
const runsPerKind = 2;

type Outcome = { name: string; c: InvalidCase; status: number | 'created'; message: string };

async function create(kc: k8s.KubeConfig, namespace: string, name: string, c: InvalidCase): Promise<Outcome> {
  try {
    await createSymbolNode(kc, namespace, name, c.spec);
    return { name, c, status: 'created', message: '' };
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
    const message = (JSON.parse(body) as { message?: string }).message ?? body;
    return { name, c, status: error.code, message };
  }
}

/** The Warning Event the operator records for the node, seen through a watch (it may land after the status). */
async function warningEvent(kc: k8s.KubeConfig, namespace: string, name: string, reason: string) {
  return watchUntil<k8s.CoreV1Event>(
    kc,
    `/api/v1/namespaces/${namespace}/events`,
    { fieldSelector: `involvedObject.kind=SymbolNode,involvedObject.name=${name}` },
    (event) => event.type === 'Warning' && event.reason === reason,
  );
}

const readyOf = (node: SymbolNode) => {
  const c = conditionOf(node, 'Ready');
  return {
    status: c?.status,
    reason: c?.reason,
    lastTransitionTime: (c as { lastTransitionTime?: unknown })?.lastTransitionTime,
  };
};

test(`generated invalid SymbolNodes are refused at admission or by the operator with a precise reason (seed ${seed})`, async () => {
  const started = Date.now();
  const cases = sampleInvalidCases(seed, runsPerKind);
  console.log(`# invalid-generated: seed ${seed}, ${cases.length} cases (SNO_INVALID_SEED=${seed} replays them)`);
  await withNamespace('invalid-gen', async (namespace, kc) => {
    await withOperator({ namespace }, async () => {
      await createSymbolNode(kc, namespace, 'before', { ...saiPeerSpec, friendlyName: 'before' });
      const before = await waitForCondition(kc, namespace, 'before', 'Ready', 'True');

      const outcomes: Outcome[] = [];
      for (const [i, c] of cases.entries()) {
        outcomes.push(await create(kc, namespace, c.name ?? `inv-${i}`, c));
      }

      const problems: string[] = [];
      const operatorSide: Outcome[] = [];
      for (const o of outcomes) {
        const what = `${o.name} (${o.c.kind})`;
        if (o.c.verdict.at === 'admission') {
          if (o.status !== 422) problems.push(`${what}: expected 422 at admission, got ${o.status} ${o.message}`);
          else if (!o.message.includes(o.c.verdict.field)) {
            problems.push(`${what}: the 422 does not name ${o.c.verdict.field}: ${o.message}`);
          }
        } else if (o.status !== 'created') {
          problems.push(`${what}: expected the API server to accept it, got ${o.status} ${o.message}`);
        } else {
          operatorSide.push(o);
        }
      }

      // Every node the API server accepted ends refused by the operator, with the oracle's reason and an Event.
      await Promise.all(
        operatorSide.map(async (o) => {
          if (o.c.verdict.at !== 'operator') return;
          const { reason, says } = o.c.verdict;
          const what = `${o.name} (${o.c.kind})`;
          try {
            const node = await watchUntil<SymbolNode & k8s.KubernetesObject>(
              kc,
              `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
              { fieldSelector: `metadata.name=${o.name}` },
              (n) => conditionOf(n, 'Ready')?.status === 'False' && conditionOf(n, 'Ready')?.reason === reason,
              60_000,
            );
            const degraded = conditionOf(node, 'Degraded');
            assert.equal(degraded?.status, 'True', `${what}: Degraded`);
            assert.equal(degraded?.reason, reason, `${what}: Degraded reason`);
            assert.ok(conditionOf(node, 'Ready')!.message.includes(says), `${what}: message names ${says}`);
            assert.equal(node.status?.phase, 'Failed', `${what}: phase`);
            const event = await warningEvent(kc, namespace, o.name, reason);
            assert.ok(event.message?.includes(says), `${what}: Event message names ${says}`);
          } catch (error) {
            problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }),
      );

      // Nothing was built for a refused node, and the valid node's status did not move.
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const statefulSets = (await apps.listNamespacedStatefulSet({ namespace })).items.map((s) => s.metadata?.name);
      if (JSON.stringify(statefulSets) !== JSON.stringify(['before'])) {
        problems.push(`StatefulSets: only the valid node should have one, found ${JSON.stringify(statefulSets)}`);
      }
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      const stored = (
        (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })) as {
          items: SymbolNode[];
        }
      ).items.map((n) => n.metadata?.name);
      const expected = ['before', ...operatorSide.map((o) => o.name)].sort();
      if (JSON.stringify(stored.sort()) !== JSON.stringify(expected)) {
        problems.push(`stored SymbolNodes: ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)}`);
      }
      const beforeNow = await getSymbolNode(kc, namespace, 'before');
      assert.deepEqual(readyOf(beforeNow), readyOf(before), 'the valid node created before keeps its Ready condition');
      assert.equal(beforeNow.status?.phase, before.status?.phase);

      // The operator is still up and working: a valid node created after all this is provisioned.
      await createSymbolNode(kc, namespace, 'after', { ...saiPeerSpec, friendlyName: 'after' });
      await waitForCondition(kc, namespace, 'after', 'Ready', 'True');

      const admitted = outcomes.filter((o) => o.status === 422).length;
      console.log(
        `# invalid-generated: ${admitted} refused at admission, ${operatorSide.length} refused by the operator ` +
          `(${[...new Set(operatorSide.map((o) => (o.c.verdict.at === 'operator' ? o.c.verdict.reason : '')))].join(', ')}), ` +
          `${problems.length} problems, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      assert.deepEqual(problems, [], `seed ${seed}`);
    });
  });
});
