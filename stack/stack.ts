import { rm } from 'node:fs/promises';
import { ensureBinaries } from './build.js';
import { clusterStatus, startCluster, stopCluster } from './cluster.js';
import { startTemporal, stopTemporal, temporalStatus } from './temporalServer.js';
import { endpoints, paths } from './versions.js';

export interface StackInfo {
  temporalAddress: string;
  temporalUi: string;
  kubeconfig: string;
  started: boolean;
}

/** Builds what is missing, then starts Temporal and the cluster; a no-op when both already run. */
export async function stackUp(log: (line: string) => void = console.log): Promise<StackInfo> {
  await ensureBinaries(log);
  const [temporal, cluster] = await Promise.all([startTemporal(), startCluster()]);
  return {
    temporalAddress: endpoints.temporalAddress,
    temporalUi: `http://127.0.0.1:${endpoints.temporalUiPort}`,
    kubeconfig: paths.kubeconfig,
    started: temporal === 'started' || cluster === 'started',
  };
}

export async function stackDown(): Promise<void> {
  await Promise.allSettled([stopTemporal(), stopCluster()]);
  await rm(paths.stateRoot, { recursive: true, force: true });
}

export async function stackStatus(): Promise<{ temporal: string; cluster: string }> {
  const [temporal, cluster] = await Promise.all([temporalStatus(), clusterStatus()]);
  return { temporal, cluster };
}
