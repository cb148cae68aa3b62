import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { resumedBy } from '../../client/resume.js';
import { endpoints, paths } from '../../stack/versions.js';
import { lifecycleStateQuery, nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import { withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { repoRoot } from '../support/paths.js';
import { createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a person runs it: its own process, configured by the environment only. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const environment = {
    ...process.env,
    TEMPORAL_ADDRESS: endpoints.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    SNO_KUBECONFIG: paths.kubeconfig,
    ...env,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'client/cli.ts', ...args],
      { cwd: repoRoot, env: environment, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const oneErrorLine = (result: CliResult, message: RegExp): void => {
  assert.equal(result.code, 1, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, message);
};

test("the CLI shows a node's lifecycle state, resumes it through a signal, and fails in one line for a missing node, a missing workflow or an unreachable Temporal", async () => {
  await withNamespace('cli', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ client }) => {
      const created = await createSymbolNode(kc, namespace, 'theta', saiPeerSpec);
      await waitForCondition(kc, namespace, 'theta', 'Ready', 'True');
      const workflowId = nodeLifecycleWorkflowId({ namespace, name: 'theta', uid: created.metadata!.uid! });
      const handle = client.workflow.getHandle(workflowId);
      // The SymbolNode turns Ready just before the lifecycle workflow records the outcome of provisioning.
      for (let deadline = Date.now() + 30_000; ;) {
        const state = await handle.query(lifecycleStateQuery);
        if (state.lastOutcome?.outcome === 'Ready') break;
        assert.ok(Date.now() < deadline, `lifecycle state: ${JSON.stringify(state)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      const status = await cli(['status', 'theta', '-n', namespace]);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(status.stderr, '');
      assert.match(status.stdout, new RegExp(`^workflow: +${workflowId}$`, 'm'));
      assert.match(status.stdout, /^generation: +1 handled, 1 requested$/m);
      assert.match(status.stdout, /^last outcome: +Ready\b/m);
      assert.match(status.stdout, /^remediation runs: +0$/m);
      assert.match(status.stdout, /^escalated: +no$/m);

      const resumed = await cli(['resume', `${namespace}/theta`]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.stdout, `resumed ${namespace}/theta (workflow ${workflowId})\n`);
      const history = await handle.fetchHistory();
      const signals = (history.events ?? [])
        .map((event) => event.workflowExecutionSignaledEventAttributes)
        .filter((signal) => signal?.signalName === 'resume');
      assert.equal(signals.length, 1, 'one resume signal in the lifecycle workflow history');
      const payload: Payload = signals[0]!.input!.payloads![0]!;
      assert.deepEqual(defaultPayloadConverter.fromPayload(payload), { by: resumedBy() });

      oneErrorLine(
        await cli(['status', 'missing-node', '-n', namespace]),
        new RegExp(`^error: SymbolNode ${namespace}/missing-node not found$`),
      );
      oneErrorLine(await cli(['resume', 'missing-node', '-n', namespace]), /not found$/);
      oneErrorLine(
        await cli(['status', 'theta', '-n', namespace], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
        /^error: cannot reach Temporal at 127\.0\.0\.1:1: /,
      );
    });
    // A SymbolNode no operator watches has no lifecycle workflow.
    await withNamespace('cli-unwatched', async (unwatched) => {
      await createSymbolNode(kc, unwatched, 'iota', saiPeerSpec);
      for (const command of ['status', 'resume']) {
        const result = await cli([command, 'iota', '-n', unwatched]);
        oneErrorLine(
          result,
          new RegExp(`^error: ${command} failed: workflow symbolnode/${unwatched}/iota/\\S+ not found`),
        );
      }
    });
  });
});
