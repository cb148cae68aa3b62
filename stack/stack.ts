import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOrder, ensureBinaries, realNodeComponents } from './build.js';
import { ensureCatapultImage } from './catapult/image.js';
import { clusterStatus, startCluster, stopCluster } from './cluster.js';
import {
  joinRealNode,
  realNodeSkipReason,
  realNodeSkipReasonNow,
  realNodeStatus,
  startRealNodeRuntime,
  stopRealNode,
} from './realNode.js';
import { withLock } from './processes.js';
import { startTemporal, stopTemporal, temporalStatus } from './temporalServer.js';
import { endpoints, paths, type Component } from './versions.js';

export interface StackInfo {
  temporalAddress: string;
  temporalUi: string;
  kubeconfig: string;
  /** `real-node` when it runs, else why not */
  realNode: string;
  started: boolean;
}

/** The stack's components to build: the real node's only when it will run. */
export function stackComponents(): Component[] {
  return realNodeSkipReason() ? buildOrder.filter((c) => !realNodeComponents.includes(c)) : buildOrder;
}

/**
 * Builds what is missing, then starts Temporal, the cluster and the real node's runtime side by side,
 * and the real node's kubelet once the cluster answers; a no-op for what already runs.
 */
export async function stackUp(log: (line: string) => void = console.log): Promise<StackInfo> {
  await ensureBinaries(log, stackComponents());
  // The real node's Symbol server, built from ../shared/catapult (about 18 min cold on 2 cores, cached after).
  const catapult = realNodeSkipReason() ? undefined : await ensureCatapultImage(log);
  return withLock(
    join(paths.stateRoot, 'up.lock'),
    'starting the stack',
    () => startStack(log, catapult ? [catapult] : []),
    log,
  );
}

async function startStack(
  log: (line: string) => void,
  images: readonly { reference: string; archive: string }[],
): Promise<StackInfo> {
  const skipRealNode = await realNodeSkipReasonNow();
  if (skipRealNode) log(`no real node: ${skipRealNode}; every pod is simulated by KWOK`);
  const [temporal, cluster] = await Promise.all([
    startTemporal(),
    startCluster(),
    skipRealNode ? undefined : startRealNodeRuntime(images),
  ]);
  if (!skipRealNode) await joinRealNode({ clusterRestarted: cluster === 'started' });
  return {
    temporalAddress: endpoints.temporalAddress,
    temporalUi: `http://127.0.0.1:${endpoints.temporalUiPort}`,
    kubeconfig: paths.kubeconfig,
    realNode: skipRealNode ? `none (${skipRealNode})` : 'real-node',
    // Whether this call brought the stack up (and `npm test` should take it down again): a real node
    // that joined a stack someone else started does not count.
    started: temporal === 'started' || cluster === 'started',
  };
}

export async function stackDown(): Promise<void> {
  // The real node first and on its own: its state dir is removed only once nothing is mounted in it,
  // and if that fails nothing below the state root may be removed.
  const realNode = stopRealNode();
  const others = Promise.allSettled([stopTemporal(), stopCluster()]);
  await realNode.finally(() => others);
  await rm(paths.stateRoot, { recursive: true, force: true });
}

export async function stackStatus(): Promise<{ temporal: string; cluster: string; realNode: string }> {
  const [temporal, cluster, realNode] = await Promise.all([temporalStatus(), clusterStatus(), realNodeStatus()]);
  return { temporal, cluster, realNode };
}
