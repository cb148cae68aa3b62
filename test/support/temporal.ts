import './quietTemporal.js';
import { WorkflowNotFoundError, type Client, type WorkflowClient } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { endpoints } from '../../stack/versions.js';

/**
 * Connects to the stack's real Temporal dev server. `createFromExistingServer` never downloads a
 * server binary; each test uses its own task queue so parallel test files never share workers.
 */
export async function withTemporalWorker<T>(
  options: Pick<WorkerOptions, 'workflowsPath' | 'activities' | 'workflowBundle'>,
  body: (ctx: { client: WorkflowClient; taskQueue: string; worker: Worker }) => Promise<T>,
): Promise<T> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: endpoints.temporalAddress,
    namespace: 'default',
  });
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  try {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      ...options,
    });
    return await worker.runUntil(body({ client: env.client.workflow, taskQueue, worker }));
  } finally {
    await env.teardown();
  }
}

/** The result of a workflow that another one starts later (a child): waits for it to exist first. */
export async function resultWhenStarted<T>(client: Client, workflowId: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await client.workflow.getHandle(workflowId).result()) as T;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
