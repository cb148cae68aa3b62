/**
 * Sends per key one at a time, newest first-come: while a send for a key is in flight, later ones wait, and only
 * the newest of them goes out after it. A pod's health reports each carry the pod's whole state, so an older one
 * overtaking a newer one (two signal RPCs racing) would leave the lifecycle with a stale record; a skipped one
 * loses nothing.
 */
export class LatestPerKey {
  private readonly waiting = new Map<string, () => Promise<void>>();
  private readonly draining = new Map<string, Promise<void>>();

  /** Runs `send` after the one in flight for `key`, unless a newer send for `key` arrives first. */
  submit(key: string, send: () => Promise<void>): void {
    this.waiting.set(key, send);
    if (!this.draining.has(key)) {
      const drain = this.drain(key).finally(() => this.draining.delete(key));
      this.draining.set(key, drain);
    }
  }

  /** Resolves once nothing is in flight or waiting. */
  async idle(): Promise<void> {
    while (this.draining.size > 0) await Promise.allSettled([...this.draining.values()]);
  }

  private async drain(key: string): Promise<void> {
    for (let send = this.waiting.get(key); send; send = this.waiting.get(key)) {
      this.waiting.delete(key);
      await send().catch(() => undefined);
    }
  }
}
