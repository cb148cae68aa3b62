/**
 * The operator process as the image runs it (worker/main.ts: its own Temporal runtime, health server, logger),
 * started from source against the stack, as the namespace-scoped install's ServiceAccount: it provisions a node,
 * and its /metrics then shows the node by phase, its Kubernetes requests by verb, the workflow runs it started
 * and the Temporal SDK's own metrics, on one endpoint; every metric the Grafana dashboard queries is one it
 * serves (or one that appears with its first event); every line it logged is a JSON event.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeKubeClients } from '../../k8s/client.js';
import { installCustomResourceDefinitions } from '../../k8s/install.js';
import { endpoints } from '../../stack/versions.js';
import { withNamespace } from '../support/cluster.js';
import { testOperatorImage } from '../support/operator.js';
import { repoRoot, saiPackageZip } from '../support/paths.js';
import { closedPort } from '../support/ports.js';
import { namespacedOperatorKubeConfig } from '../support/rbac.js';
import { testLog } from '../support/secretLedger.js';
import { createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const dashboardFile = join(repoRoot, 'k8s/manifests/install/monitoring/grafana-dashboard.json');

/** Metric families that exist only after their first event (or, for the height, once it is exported). */
const appearWithFirstEvent = new Set([
  'symbol_operator_node_height',
  'symbol_operator_remediations_total',
  'symbol_operator_alerts_sent_total',
  'symbol_operator_workflows_failed_total',
  'temporal_workflow_failed_total',
  'temporal_activity_execution_failed_total',
  'temporal_local_activity_execution_failed_total',
  'temporal_activity_execution_latency_seconds',
]);

/** `name{labels} value` lines of one family's samples, as [labels, value]. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

const typesIn = (text: string): Set<string> =>
  new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));

test('the operator serves its metrics and the Temporal SDK metrics on /metrics, and logs JSON', async () => {
  await withNamespace('metrics', async (namespace, kc) => {
    await installCustomResourceDefinitions(makeKubeClients(kc));
    const operatorKubeConfig = await namespacedOperatorKubeConfig(kc, namespace);
    const dir = await mkdtemp(join(tmpdir(), 'sno-metrics-'));
    const kubeconfigFile = join(dir, 'kubeconfig');
    await writeFile(kubeconfigFile, operatorKubeConfig.exportConfig(), { mode: 0o600 });
    const port = await closedPort();
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'worker/main.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        SNO_KUBECONFIG: kubeconfigFile,
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        SNO_WATCH_NAMESPACE: namespace,
        SNO_TASK_QUEUE: `metrics-${randomBytes(4).toString('hex')}`,
        SNO_HEALTH_PORT: String(port),
        SNO_HEALTH_ADDRESS: '127.0.0.1',
        SNO_OPERATOR_IMAGE: testOperatorImage,
        SNO_NETWORK_PACKAGE_SAI: saiPackageZip,
        SNO_INSTALL_CRDS: 'false',
        SNO_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Kept for the final secret scan too, like every test operator's log.
    const output = testLog(`operator-main.${namespace}.${child.pid}.log`);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      output.write(chunk);
    });
    const exited = once(child, 'exit');
    const get = async (path: string): Promise<{ status: number; text: string } | undefined> => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      return response && { status: response.status, text: await response.text() };
    };
    /** Polls until `check` passes (a bound against hanging, not a speed requirement). */
    const eventually = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        const value = await check();
        if (value !== undefined) return value;
        assert.ok(child.exitCode === null, `operator exited: ${stderr}\n${stdout}`);
        assert.ok(attempt < 600, `${what}; stdout ${stdout.slice(-4000)}; stderr ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    try {
      await eventually('ready', async () => ((await get('/readyz'))?.status === 200 ? true : undefined));
      await createSymbolNode(kc, namespace, 'alpha', saiPeerSpec);
      await waitForCondition(kc, namespace, 'alpha', 'Ready', 'True');

      // The cache sees the status the workflow wrote; Core exports on its own schedule: scrape until both show.
      const text = await eventually('metrics with the Running node and the provisioning', async () => {
        const answer = await get('/metrics');
        if (answer?.status !== 200) return undefined;
        const running = samples(answer.text, 'symbol_operator_nodes').find((s) => s.labels.phase === 'Running');
        const provisioned = samples(answer.text, 'temporal_workflow_completed_total').some(
          (s) => s.labels.workflow_type === 'provisionNode' && s.value >= 1,
        );
        return running?.value === 1 && provisioned ? answer.text : undefined;
      });

      assert.deepEqual(
        samples(text, 'symbol_operator_nodes')
          .filter((s) => s.value > 0)
          .map((s) => s.labels.phase),
        ['Running'],
      );
      // Kubernetes requests by verb, from the informers (list, watch) and the activities (create, patch, get).
      const verbs = new Set(
        samples(text, 'symbol_operator_kubernetes_requests_total')
          .filter((s) => s.value > 0)
          .map((s) => s.labels.verb),
      );
      for (const verb of ['list', 'watch', 'create', 'patch', 'get']) assert.ok(verbs.has(verb), `verb ${verb}`);
      assert.ok(
        samples(text, 'symbol_operator_kubernetes_request_duration_seconds_count').some(
          (s) => s.labels.verb === 'create' && s.value > 0,
        ),
      );
      // Workflow runs started, by action, counted in the workflows (Core adds the Temporal labels).
      const started = samples(text, 'symbol_operator_workflows_started_total');
      for (const action of ['lifecycle', 'provision']) {
        assert.ok(
          started.some((s) => s.labels.action === action && s.value >= 1),
          `started ${action}: ${JSON.stringify(started)}`,
        );
      }
      assert.deepEqual(samples(text, 'symbol_operator_temporal_metrics_up'), [{ labels: {}, value: 1 }]);
      assert.ok(samples(text, 'temporal_worker_task_slots_available').length > 0);
      assert.ok(samples(text, 'process_resident_memory_bytes').length > 0);

      // Every family the dashboard queries is served here, or appears with its first event.
      const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as {
        panels: { targets?: { expr: string }[] }[];
      };
      const queried = new Set(
        dashboard.panels
          .flatMap((panel) => panel.targets ?? [])
          .flatMap((target) => [...target.expr.matchAll(/\b((?:symbol_operator|temporal|process)_\w+)/g)])
          .map((match) => match[1]!.replace(/_(bucket|count|sum)$/, '')),
      );
      const served = typesIn(text);
      const missing = [...queried].filter((name) => !served.has(name) && !appearWithFirstEvent.has(name));
      assert.deepEqual(missing, [], `dashboard metrics not served: ${[...served].sort().join(' ')}`);

      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, `exit after SIGTERM; stderr ${stderr}`);

      // One JSON event per line, on stdout; stderr stays quiet.
      assert.equal(stderr, '');
      const lines = stdout.split('\n').filter(Boolean);
      const events = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          assert.fail(`not a JSON line: ${line}`);
        }
      });
      for (const event of events) {
        assert.equal(typeof event.time, 'string');
        assert.ok(['debug', 'info', 'warn', 'error'].includes(String(event.level)), JSON.stringify(event));
        assert.equal(typeof event.msg, 'string');
      }
      assert.ok(events.some((event) => event.msg === `watching SymbolNodes in ${namespace}`));
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      output.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
