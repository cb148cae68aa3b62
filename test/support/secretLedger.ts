/**
 * What the final secret scan (test/final/secret-scan.test.ts) needs from a whole test run, recorded while it runs:
 *
 * - Every private key written to a Secret of a test namespace, as it is written: a watch on the namespace's
 *   Secrets for its whole life (withNamespace), because the namespace is deleted at the end of its test and a
 *   node's Secrets may go before that (dataRetentionPolicy Delete). Kept in `ledgerDir`, 0700/0600: they are
 *   throwaway test keys, but still keys.
 * - What a deleted namespace held that the scan must search: its Events, SymbolNodes (statuses) and ConfigMaps'
 *   text data, snapshotted just before deletion.
 * - The operators' logs: `testLogDir` (test/support/operator.ts writes the in-process and spawned operators' logs
 *   there; saveOperatorPodLogs the in-cluster operator's).
 *
 * Why not keep the namespaces (a SNO_KEEP_TEST_NAMESPACES switch): the suite would grow the cluster for its whole
 * length on a 2-core machine, and a Secret deleted during a test would still be missed.
 */
import * as k8s from '@kubernetes/client-node';
import type { ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { GROUP, PLURAL, VERSION } from '../../k8s/symbolNode.js';
import { paths } from '../../stack/versions.js';

export const testLogDir = join(paths.stateRoot, 'test-logs');
export const ledgerDir = join(paths.stateRoot, 'test-ledger');

/** A private key as found in a Secret: `hex` is the raw key (upper case); `pem` the PEM body when it was one. */
export interface RecordedKey {
  namespace: string;
  secret: string;
  dataKey: string;
  hex: string;
  pem?: string;
}

/** A spawned operator's output goes to a test log for the final secret scan too; stderr still reaches the test's own. */
export function logOperatorProcess(child: ChildProcessByStdio<null, Readable, Readable>, name: string): void {
  const output = testLog(name);
  child.stdout.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    output.write(chunk);
    process.stderr.write(chunk);
  });
  child.once('close', () => output.end());
}

/** An append-only log file under testLogDir (created 0600: an operator log is not for everyone either). */
export function testLog(name: string): WriteStream {
  mkdirSync(testLogDir, { recursive: true, mode: 0o700 });
  return createWriteStream(join(testLogDir, name.replace(/[^A-Za-z0-9._-]/g, '_')), { flags: 'a', mode: 0o600 });
}

/** Ed25519 PKCS#8 DER: a 16-byte header, then the 32-byte key. */
const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';

/**
 * The private keys in a Secret's data: PEM "PRIVATE KEY" blocks (certificates Secret), `...PrivateKey = <hex>`
 * lines (config-harvesting.properties: signing and VRF keys), and values that are a bare 64-digit hex key (the
 * identity Secret, bring-your-own identities).
 */
export function privateKeysIn(secret: k8s.V1Secret): RecordedKey[] {
  const namespace = secret.metadata?.namespace ?? '';
  const name = secret.metadata?.name ?? '';
  const out: RecordedKey[] = [];
  for (const [dataKey, b64] of Object.entries(secret.data ?? {})) {
    const text = Buffer.from(b64, 'base64').toString('utf8');
    for (const m of text.matchAll(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END/g)) {
      const pem = m[2]!.replace(/\s+/g, '');
      const der = Buffer.from(pem, 'base64').toString('hex');
      const hex = der.startsWith(PKCS8_ED25519_PREFIX) ? der.slice(PKCS8_ED25519_PREFIX.length) : der;
      out.push({ namespace, secret: name, dataKey, hex: hex.toUpperCase(), pem });
    }
    for (const m of text.matchAll(/PrivateKey\s*=\s*([0-9A-Fa-f]{64})\b/g)) {
      out.push({ namespace, secret: name, dataKey, hex: m[1]!.toUpperCase() });
    }
    if (/^[0-9A-Fa-f]{64}$/.test(text.trim()))
      out.push({ namespace, secret: name, dataKey, hex: text.trim().toUpperCase() });
  }
  return out;
}

/** An API error's code and first line (its String() carries headers). */
const brief = (error: unknown) =>
  error instanceof k8s.ApiException ? `HTTP ${error.code}` : String(error).split('\n')[0]!.slice(0, 300);

function ensureLedgerDir(): void {
  mkdirSync(ledgerDir, { recursive: true, mode: 0o700 });
}

export const keysFile = (namespace: string) => join(ledgerDir, `${namespace}.keys.jsonl`);
export const snapshotFile = (namespace: string) => join(ledgerDir, `${namespace}.snapshot.json`);
export const errorFile = (namespace: string) => join(ledgerDir, `${namespace}.error.txt`);

export interface NamespaceRecorder {
  /** Final read of the Secrets, snapshot of what the scan searches, then the watch ends. Call before deleting. */
  stop(): Promise<void>;
}

/**
 * Records every private key written to a Secret of `namespace` from now until stop(). The watch is re-opened (with
 * a fresh list) whenever it ends: tests stop the API server on purpose, and a Secret created meanwhile is in the
 * next list. A failure to record is written to `<namespace>.error.txt`, which the scan reports.
 */
export function recordNamespace(kc: k8s.KubeConfig, namespace: string): NamespaceRecorder {
  ensureLedgerDir();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const seen = new Set<string>();
  let writes = Promise.resolve();
  const record = (secret: k8s.V1Secret) => {
    const fresh = privateKeysIn(secret).filter((k) => {
      const id = `${k.secret}/${k.dataKey}/${k.hex}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    if (fresh.length === 0) return;
    const lines = fresh.map((k) => JSON.stringify(k) + '\n').join('');
    writes = writes.then(() => appendFile(keysFile(namespace), lines, { mode: 0o600 }));
  };
  const fail = (what: string, error: unknown) => {
    writes = writes.then(() =>
      appendFile(errorFile(namespace), `${new Date().toISOString()} ${what}: ${brief(error)}\n`, { mode: 0o600 }),
    );
  };

  let stopped = false;
  let request: AbortController | undefined;
  const listAll = async () => {
    const list = await core.listNamespacedSecret({ namespace });
    list.items.forEach(record);
    return list.metadata?.resourceVersion;
  };
  const loop = async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const resourceVersion = await listAll();
        await new Promise<void>((resolve) => {
          new k8s.Watch(kc)
            .watch(
              `/api/v1/namespaces/${namespace}/secrets`,
              resourceVersion ? { resourceVersion, allowWatchBookmarks: 'true' } : {},
              (_type, secret: k8s.V1Secret) => record(secret),
              () => resolve(),
            )
            .then((controller) => {
              request = controller;
              if (stopped) controller.abort();
            })
            .catch(() => resolve());
        });
        attempt = 0;
      } catch {
        // The API server is away (a fault test) or the namespace is going: try again, the next list catches up.
      }
      if (!stopped) await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
    }
  };
  const running = loop();

  return {
    async stop() {
      // A fault test may end while the API server is still coming back (connection refused, 429 while its storage
      // initialises): wait for it a while rather than lose the namespace's last state.
      for (let attempt = 0; ; attempt++) {
        try {
          await listAll();
          await snapshot(kc, namespace);
          break;
        } catch (error) {
          if (attempt >= 10) {
            fail('final read before deletion failed (keys or objects of this namespace may be missing)', error);
            break;
          }
          await sleep(Math.min(10_000, 500 * 2 ** attempt));
        }
      }
      stopped = true;
      request?.abort();
      // The loop may sit in a list against a hung API server; it ends on its own, the test need not wait for it.
      await Promise.race([running, sleep(5000)]);
      await writes;
    },
  };
}

/** Events, SymbolNodes (their statuses) and ConfigMaps' text data of the namespace, for the scan. */
async function snapshot(kc: k8s.KubeConfig, namespace: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const [events, configMaps, symbolNodes] = await Promise.all([
    core.listNamespacedEvent({ namespace }),
    core.listNamespacedConfigMap({ namespace }),
    custom
      .listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })
      .then((list) => (list as { items: unknown[] }).items)
      // A test that never installed the CRD (stack tests): no SymbolNodes to keep.
      .catch((error: unknown) => {
        if (error instanceof k8s.ApiException && error.code === 404) return [];
        throw error;
      }),
  ]);
  // binaryData (network package zips) is compressed: a key in it would not be visible as text anyway.
  const texts = configMaps.items.map((c) => ({ metadata: c.metadata, data: c.data }));
  await writeFile(
    snapshotFile(namespace),
    JSON.stringify({ namespace, events: events.items, configMaps: texts, symbolNodes }),
    { mode: 0o600 },
  );
}

/** Saves the logs of the pods matching `labelSelector` (every container, previous runs too) under testLogDir. */
export async function saveOperatorPodLogs(kc: k8s.KubeConfig, namespace: string, labelSelector: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  for (const pod of pods.items) {
    const name = pod.metadata!.name!;
    for (const container of pod.spec?.containers ?? []) {
      for (const previous of [false, true]) {
        const text = await core
          .readNamespacedPodLog({ namespace, name, container: container.name, previous })
          .catch(() => undefined);
        if (text === undefined) continue;
        const log = testLog(`in-cluster.${namespace}.${name}.${container.name}${previous ? '.previous' : ''}.log`);
        await new Promise<void>((resolve, reject) => log.end(text, () => resolve()).once('error', reject));
      }
    }
  }
}

/** For the start of a full run (test/run.ts): the scan then checks this run's keys and logs, not older ones. */
export async function clearRunRecords(): Promise<void> {
  await Promise.all([
    rm(ledgerDir, { recursive: true, force: true }),
    rm(testLogDir, { recursive: true, force: true }),
  ]);
}
