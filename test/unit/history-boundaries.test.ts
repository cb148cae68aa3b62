import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { RecordingPoints } from '../support/historyBoundaries.js';

async function pointsOf(file: string, afterEventId = 0): Promise<[number, string[]][]> {
  const json: unknown = JSON.parse(await readFile(new URL(`../fixtures/histories/${file}`, import.meta.url), 'utf8'));
  const points = new RecordingPoints('w', afterEventId);
  for (const event of historyFromJSON(json).events ?? []) points.feed(event);
  return points.points.map((p) => [p.eventId, p.activities]);
}

test("a workflow task's local activities land together; each regular activity alone; patch markers are none", async () => {
  assert.deepEqual(await pointsOf('provisionNode-ready.json'), [
    [
      6,
      [
        'readSymbolNode',
        'reportNodeStatus',
        'ensureNodeIdentity',
        'ensureNodeConfiguration',
        'applyNodeWorkloads',
        'reportNodeStatus',
      ],
    ],
    [14, ['waitForNodeReady']],
    [18, ['reportNodeStatus']],
  ]);
  assert.deepEqual(await pointsOf('remediateNode-recovered-recording.json'), [
    [7, ['readSymbolNode', 'reportNodeStatus']],
    [11, ['stopNode']],
    [15, ['createRecoveryJob', 'reportNodeStatus']],
    [19, ['waitForRecoveryJob']],
    [23, ['startNode']],
    [26, ['waitForNodeReady']],
    [30, ['reportNodeStatus']],
  ]);
});

test('counting starts after the given event', async () => {
  assert.deepEqual(await pointsOf('remediateNode-recovered-recording.json', 19), [
    [23, ['startNode']],
    [26, ['waitForNodeReady']],
    [30, ['reportNodeStatus']],
  ]);
});
