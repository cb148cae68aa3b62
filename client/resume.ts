import { userInfo } from 'node:os';
import { resumeSignal } from '../workflows/nodeLifecycle.js';
import type { Lifecycle } from './lifecycle.js';

/** Who resumed: recorded in the signal, so the workflow history says who let the operator act again. */
export function resumedBy(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}

/** `resume`: lets the operator act on the node again after it gave up on it (escalated). */
export async function resume(lifecycle: Lifecycle, by = resumedBy()): Promise<string[]> {
  await lifecycle.call('resume', (handle) => handle.signal(resumeSignal, { by }));
  const { namespace, name } = lifecycle.ref;
  return [`resumed ${namespace}/${name} (workflow ${lifecycle.workflowId})`];
}
