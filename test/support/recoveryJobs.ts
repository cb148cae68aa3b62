import type { Client } from '@temporalio/client';
import { recoveryJobName } from '../../k8s/objects/index.js';

/**
 * The name of the recovery Job that remediation workflow `workflowId` (`symbolnode/<ns>/<name>/<uid>/remediate/<run>`)
 * creates for `attempt`: made of its workflow id and run id, as the operator names it.
 */
export async function recoveryJobNameOf(client: Client, workflowId: string, attempt = 1): Promise<string> {
  const parts = workflowId.split('/');
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  return recoveryJobName(parts[2]!, Number(parts.at(-1)), attempt, { workflowId, runId });
}

/** Any recovery Job of run `run`, attempt `attempt` of node `name` (its owner hash unknown to the test yet). */
export const recoveryJobPattern = (name: string, run: number, attempt: number): RegExp =>
  new RegExp(`^${name}-recovery-${run}-${attempt}-[0-9a-f]{8}$`);
