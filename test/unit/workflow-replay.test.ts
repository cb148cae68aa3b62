import { Worker } from '@temporalio/worker';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { NodeRef } from '../../activities/types.js';
import { nodeLifecycleWorkflowId } from '../../workflows/nodeLifecycle.js';
import '../support/quietTemporal.js';
import { workflowBundle } from '../support/operator.js';

/**
 * Histories recorded from real runs (test/fixtures/histories, public data only) must replay on the
 * current workflow code. A change that would break running workflows fails here: guard it with
 * `patched()` and add a history recorded from the new code.
 */
const historiesDir = new URL('../fixtures/histories/', import.meta.url);

interface RecordedHistory {
  events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data: string }[] } } }[];
}

/** The workflow ID the run had (the CLI's export omits it): lifecycle IDs are derived from the node. */
function workflowIdOf(history: RecordedHistory): string {
  const data = history.events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data ?? '';
  const input = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as {
    ref: NodeRef;
    generation?: number;
    run?: number;
  };
  const lifecycleId = nodeLifecycleWorkflowId(input.ref);
  if (input.run !== undefined) return `${lifecycleId}/remediate/${input.run}`;
  return input.generation === undefined ? lifecycleId : `${lifecycleId}/provision/${input.generation}`;
}

for (const file of (await readdir(historiesDir)).filter((f) => f.endsWith('.json')).sort()) {
  test(`replays ${file} deterministically`, async () => {
    const history = JSON.parse(await readFile(new URL(file, historiesDir), 'utf8')) as RecordedHistory;
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowIdOf(history));
  });
}
