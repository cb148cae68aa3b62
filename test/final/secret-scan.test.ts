/**
 * R6: after the whole suite, none of the private keys the run created (main account, node/CA TLS keys, harvester
 * signing and VRF keys) is in a Temporal workflow history, an operator's log, an Event, a SymbolNode's status or a
 * ConfigMap.
 *
 * Keys: from the ledger test/support/secretLedger.ts keeps while each test namespace lives (every Secret written
 * there, recorded as it is written, since namespaces and Secrets are deleted before this runs), and from the
 * operator's Secrets still in the cluster. Voting keys stay on the data volume and are in no Secret: none to check.
 *
 * Searched: every workflow history of the tests' Temporal namespace (every event, every payload decoded with the
 * default data converter, byte arrays as hex); the operators' logs (in-process, spawned, in-cluster) and the Temporal
 * runtime logs of every test process, the Temporal server's log and the real node's pod logs; Events, SymbolNodes
 * and ConfigMaps (text data) of every namespace, live and as snapshotted before each test namespace was deleted.
 *
 * Self-check: three fresh keys are planted first — in a ConfigMap of a scratch namespace (hex), in a workflow's
 * input (raw bytes, as the JSON converter writes them) and in a log file (base64) — and the scan must find each
 * exactly where it was planted, so a scan that finds nothing has proved it can find something.
 */
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { GROUP, LABEL_MANAGED_BY, MANAGER_NAME, PLURAL, VERSION } from '../../k8s/symbolNode.js';
import { endpoints, paths } from '../../stack/versions.js';
import { testKubeConfig } from '../support/cluster.js';
import { ledgerDir, privateKeysIn, testLogDir, type RecordedKey } from '../support/secretLedger.js';
import { KeyIndex, textsOf, type Finding, type WalkCounts } from '../support/secretScan.js';

const TEMPORAL_NAMESPACE = 'default';
const SELF_CHECK_QUEUE = 'secret-scan-self-check';

interface Counts extends WalkCounts {
  histories: number;
  events: number;
  files: number;
  objects: number;
  bytes: number;
}

async function filesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function ledger(): Promise<{ keys: RecordedKey[]; snapshots: string[]; errors: string[] }> {
  const files = await filesIn(ledgerDir);
  const keys: RecordedKey[] = [];
  const errors: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.keys.jsonl'))) {
    for (const line of (await readFile(file, 'utf8')).split('\n').filter(Boolean)) {
      keys.push(JSON.parse(line) as RecordedKey);
    }
  }
  for (const file of files.filter((f) => f.endsWith('.error.txt'))) {
    errors.push(`${basename(file, '.error.txt')}: ${(await readFile(file, 'utf8')).trim()}`);
  }
  return { keys, snapshots: files.filter((f) => f.endsWith('.snapshot.json')), errors };
}

/** A namespace whose last read failed but that still exists is read now (liveKeys, the live objects): no loss. */
async function stillExists(core: k8s.CoreV1Api, error: string): Promise<boolean> {
  const namespace = error.slice(0, error.indexOf(':'));
  return core.readNamespace({ name: namespace }).then(
    () => true,
    () => false,
  );
}

/** The operator's Secrets still in the cluster, and every Secret of a test namespace that still exists. */
async function liveKeys(kc: k8s.KubeConfig): Promise<RecordedKey[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const managed = await core.listSecretForAllNamespaces({ labelSelector: `${LABEL_MANAGED_BY}=${MANAGER_NAME}` });
  const testNamespaces = await core.listNamespace({ labelSelector: 'symbol.nodeoperator.io/test=true' });
  const inTests = await Promise.all(
    testNamespaces.items.map((ns) => core.listNamespacedSecret({ namespace: ns.metadata!.name! })),
  );
  return [...managed.items, ...inTests.flatMap((l) => l.items)].flatMap(privateKeysIn);
}

test('no private key the run created is in a workflow history, a log, an Event, a SymbolNode or a ConfigMap', async () => {
  const started = Date.now();
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const connection = await Connection.connect({ address: endpoints.temporalAddress });
  const client = new Client({ connection, namespace: TEMPORAL_NAMESPACE });
  const tag = randomBytes(3).toString('hex');
  const scratch = `secret-scan-${tag}`;
  const plantedLog = join(testLogDir, `secret-scan-self-check-${tag}.log`);
  const plant = (secret: string): RecordedKey => ({
    namespace: scratch,
    secret,
    dataKey: 'planted',
    hex: randomBytes(32).toString('hex').toUpperCase(),
  });
  const planted = { configMap: plant('configmap'), history: plant('history'), log: plant('log') };
  const selfCheckId = `secret-scan-self-check-${tag}`;
  try {
    await core.createNamespace({ body: { metadata: { name: scratch } } });
    await core.createNamespacedConfigMap({
      namespace: scratch,
      body: {
        metadata: { name: 'planted' },
        data: {
          'config-harvesting.properties': `harvesterSigningPrivateKey = ${planted.configMap.hex.toLowerCase()}\n`,
        },
      },
    });
    // No worker polls this queue: the workflow only has to exist, with the key in its input.
    const handle = await client.workflow.start('secretScanSelfCheck', {
      taskQueue: SELF_CHECK_QUEUE,
      workflowId: selfCheckId,
      args: [{ note: 'planted by the secret scan', key: Buffer.from(planted.history.hex, 'hex') }],
    });
    await handle.terminate('self-check of the secret scan');
    await writeFile(plantedLog, `leaked: ${Buffer.from(planted.log.hex, 'hex').toString('base64')}\n`, { mode: 0o600 });

    const recorded = await ledger();
    const live = await liveKeys(kc);
    const index = new KeyIndex([...recorded.keys, ...live, ...Object.values(planted)]);
    const counts: Counts = { histories: 0, events: 0, payloads: 0, undecodable: 0, files: 0, objects: 0, bytes: 0 };
    const findings: Finding[] = [];
    const search = (source: string, texts: string[]) => {
      for (const text of texts) {
        counts.bytes += text.length;
        for (const hit of index.find(text)) findings.push({ source, ...hit });
      }
    };

    // Workflow histories, a few at a time.
    const executions: Array<{ workflowId: string; runId: string }> = [];
    for await (const w of client.workflow.list()) executions.push({ workflowId: w.workflowId, runId: w.runId });
    const queue = [...executions];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let e = queue.shift(); e; e = queue.shift()) {
          const history = await client.workflow.getHandle(e.workflowId, e.runId).fetchHistory();
          counts.histories++;
          for (const event of history.events ?? []) {
            counts.events++;
            search(`history ${e.workflowId} (${e.runId}) event ${String(event.eventId)}`, textsOf(event, counts));
          }
        }
      }),
    );

    // Logs, and the objects of deleted test namespaces.
    const files = [
      ...(await filesIn(testLogDir)),
      ...recorded.snapshots,
      paths.temporalLog,
      ...(await filesIn(paths.realNode.podLogsDir)),
    ].filter((f) => existsSync(f));
    for (const file of files) {
      counts.files++;
      search(`file ${file}`, [await readFile(file, 'utf8')]);
    }

    // Events, SymbolNodes and ConfigMaps of every namespace now.
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const [events, configMaps, nodes] = await Promise.all([
      core.listEventForAllNamespaces(),
      core.listConfigMapForAllNamespaces(),
      custom
        .listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural: PLURAL })
        .then((list) => (list as { items: k8s.KubernetesObject[] }).items),
    ]);
    const objects: Array<[string, k8s.KubernetesObject]> = [
      ...events.items.map((o): [string, k8s.KubernetesObject] => ['Event', o]),
      // binaryData holds network package zips (compressed: a key would not show as text in it anyway).
      ...configMaps.items.map((o): [string, k8s.KubernetesObject] => [
        'ConfigMap',
        { ...o, binaryData: undefined } as k8s.V1ConfigMap,
      ]),
      ...nodes.map((o): [string, k8s.KubernetesObject] => ['SymbolNode', o]),
    ];
    for (const [kind, o] of objects) {
      counts.objects++;
      search(`${kind} ${o.metadata?.namespace}/${o.metadata?.name}`, [JSON.stringify(o)]);
    }

    console.log(
      `# secret scan: ${index.size} keys checked (${recorded.keys.length} recorded during the run, ${live.length} in ` +
        `live Secrets, 3 planted); ${counts.histories} histories, ${counts.events} events, ${counts.payloads} ` +
        `payloads (${counts.undecodable} not decodable), ${counts.files} files, ${counts.objects} objects, ` +
        `${(counts.bytes / 1e6).toFixed(1)} MB scanned in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    // The self-check: each planted key found where it was planted, and only there.
    const where = (key: RecordedKey) => findings.filter((f) => f.key.hex === key.hex).map((f) => f.source);
    assert.deepEqual(where(planted.configMap), [`ConfigMap ${scratch}/planted`], 'planted in a ConfigMap');
    assert.ok(
      where(planted.history).length > 0 && where(planted.history).every((s) => s.startsWith(`history ${selfCheckId} `)),
      `planted in a workflow input: found in ${JSON.stringify(where(planted.history))}`,
    );
    assert.deepEqual(where(planted.log), [`file ${plantedLog}`], 'planted in a log file');

    const plantedHex = new Set(Object.values(planted).map((k) => k.hex));
    const leaks = findings
      .filter((f) => !plantedHex.has(f.key.hex))
      .map((f) => `${f.key.namespace}/${f.key.secret}[${f.key.dataKey}] as ${f.form} in ${f.source}`);
    assert.deepEqual(leaks, [], 'private keys found outside their Secrets');
    const lost = [];
    for (const error of recorded.errors) if (!(await stillExists(core, error))) lost.push(error);
    assert.deepEqual(lost, [], 'the ledger could not record every test namespace');
  } finally {
    await core.deleteNamespace({ name: scratch }).catch(() => undefined);
    await rm(plantedLog, { force: true });
    await connection.close();
  }
});
