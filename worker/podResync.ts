import type { PodHealthReport } from '../workflows/nodeLifecycle.js';

/**
 * True when a pod's report now says something else than the one the lifecycle recorded: another pod, another
 * readiness, or another problem. Messages are left out: they carry durations and counts that change by themselves.
 */
export function reportsDiffer(now: PodHealthReport, recorded: PodHealthReport | undefined): boolean {
  if (!recorded) return true;
  if (now.podUid !== recorded.podUid && recorded.podUid !== undefined) return true;
  if (now.podReady !== recorded.podReady) return true;
  const a = now.problem;
  const b = recorded.problem;
  if (!a || !b) return a !== b;
  return a.kind !== b.kind || a.reason !== b.reason || a.uncleanStop !== b.uncleanStop;
}

/**
 * Runs a resync pass over many items with at most `concurrency` at once, one pass at a time: a pass still running
 * when the next is due is not doubled (with a thousand nodes, a pass of lifecycle queries can outlast the period).
 */
export class ReportResync {
  private running?: Promise<void>;

  constructor(private readonly concurrency: number) {}

  pass<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
    this.running ??= (async () => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < items.length) {
          const item = items[next++]!;
          await each(item).catch(() => undefined);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.concurrency) }, worker));
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves once no pass runs. */
  async idle(): Promise<void> {
    await this.running;
  }
}
