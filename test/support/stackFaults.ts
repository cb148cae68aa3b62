/** The stack's process faults for tests (stack/faults.ts); only tests in test/disruptive may use them. */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  killTemporal,
  kubeApiserverRefuses,
  startKubeApiserver,
  startTemporalAgain,
  stopKubeApiserver,
} from '../../stack/faults.js';

export { killTemporal, kubeApiserverRefuses, startKubeApiserver, startTemporalAgain, stopKubeApiserver };

export interface Outage {
  /** When the process was gone (ms since the epoch). */
  stoppedAt: number;
  /** When it served again. */
  backAt: number;
}

/** kube-apiserver gone for `durationMs` (from the moment it refuses connections), then back and ready. */
export async function apiserverOutage(durationMs: number): Promise<Outage> {
  await stopKubeApiserver();
  const stoppedAt = Date.now();
  try {
    await sleep(durationMs);
  } finally {
    await startKubeApiserver();
  }
  return { stoppedAt, backAt: Date.now() };
}

/** The Temporal dev server SIGKILLed, down for `durationMs`, then serving again from the same database file. */
export async function temporalOutage(durationMs: number): Promise<Outage> {
  await killTemporal();
  const stoppedAt = Date.now();
  try {
    await sleep(durationMs);
  } finally {
    await startTemporalAgain();
  }
  return { stoppedAt, backAt: Date.now() };
}
