/**
 * One informer (list + watch of one collection) with the operator's one restart policy, and the waits that
 * activities build on it. k8s/cache.ts makes one per kind the operator watches.
 */
import * as k8s from '@kubernetes/client-node';

/** How a watch that ended with an error is started again. */
export interface RestartPolicy {
  /** Delay before the first restart; it doubles with each restart that fails again. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A watch that stayed up this long after a restart starts the next series of delays from the first. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, resetAfterMs: 60_000 };

/**
 * Capped exponential delay with equal jitter (half fixed, half random): a thousand operators, or five informers
 * of one, that lost the API server at once do not come back in lockstep.
 */
export function restartDelayMs(policy: RestartPolicy, failures: number, random: () => number = Math.random): number {
  const capped = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(failures, 30));
  return Math.round(capped / 2 + (random() * capped) / 2);
}

export interface InformerHealth {
  informer: string;
  /** Listed at least once: the cache holds the collection. */
  synced: boolean;
  /** Synced and no error since the last (re)start. */
  healthy: boolean;
  /** Restarts after errors so far. */
  restarts: number;
  /** Full lists so far: the first, after a restart that lost the resource version, after 410 Gone. */
  lists: number;
  lastError?: string;
  lastErrorAt?: string;
}

/** What the cache tells its owner: metrics and logs live above the k8s layer. */
export interface CacheObserver {
  restarted?(informer: string, delayMs: number, error: string): void;
  health?(informer: string, healthy: boolean): void;
}

export interface InformerSource<T extends k8s.KubernetesObject> {
  kubeConfig: k8s.KubeConfig;
  path: string;
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
}

type Listener<T> = (object: T | undefined) => void;
type Handler<T> = (object: T) => void;

export class CachedInformer<T extends k8s.KubernetesObject> {
  private informer?: k8s.Informer<T> & k8s.ObjectCache<T>;
  private starting?: Promise<void>;
  private stopped = false;
  private readonly handlers: { add: Handler<T>[]; update: Handler<T>[]; delete: Handler<T>[] } = {
    add: [],
    update: [],
    delete: [],
  };
  private readonly listeners = new Map<string, Set<Listener<T>>>();
  private readonly state: InformerHealth;
  private failures = 0;
  private errors = 0;
  private healthySince?: number;
  private restartTimer?: NodeJS.Timeout;
  private markSynced!: () => void;
  /** Resolves at the first successful list. */
  private readonly listed = new Promise<void>((resolve) => (this.markSynced = resolve));

  constructor(
    readonly name: string,
    private readonly source: InformerSource<T>,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly observer: CacheObserver = {},
  ) {
    this.state = { informer: name, synced: false, healthy: false, restarts: 0, lists: 0 };
  }

  /** Handlers see every change, including those of re-lists (deletes of what vanished meanwhile). */
  on(event: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    this.handlers[event].push(handler);
  }

  /** Lists and watches; resolves after the first attempt, listed or not (a failed one is retried with backoff). */
  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    const { kubeConfig, path, labelSelector } = this.source;
    const list = async (): Promise<k8s.KubernetesListObject<T>> => {
      const listed = await this.source.list();
      this.state.lists++;
      // ListWatch fills its cache synchronously once this resolves.
      setImmediate(() => {
        this.state.synced = true;
        this.markSynced();
      });
      return listed;
    };
    const informer = k8s.makeInformer<T>(kubeConfig, path, list, labelSelector);
    informer.on('add', (object) => this.dispatch('add', object));
    informer.on('update', (object) => this.dispatch('update', object));
    informer.on('delete', (object) => this.dispatch('delete', object));
    informer.on('error', (error: unknown) => this.failed(error));
    this.informer = informer;
    await this.attempt();
  }

  private dispatch(event: 'add' | 'update' | 'delete', object: T): void {
    for (const handler of this.handlers[event]) {
      // A handler's exception must not end the watch (ListWatch would stop on it during a re-list).
      try {
        handler(object);
      } catch (error) {
        this.state.lastError = `handler: ${describe(error)}`;
      }
    }
    const id = key(object.metadata?.namespace, object.metadata?.name);
    for (const listener of this.listeners.get(id) ?? []) listener(event === 'delete' ? undefined : object);
  }

  /** One (re)start; one that throws is an error like any other and scheduled again. */
  private async attempt(): Promise<void> {
    if (this.stopped || !this.informer) return;
    const errorsBefore = this.errors;
    try {
      await this.informer.start();
    } catch (error) {
      this.failed(error);
      return;
    }
    if (this.errors === errorsBefore && !this.stopped) {
      this.healthySince = Date.now();
      if (!this.state.healthy) {
        this.state.healthy = true;
        this.observer.health?.(this.name, true);
      }
    }
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    this.errors++;
    this.state.lastError = describe(error);
    this.state.lastErrorAt = new Date().toISOString();
    if (this.state.healthy) {
      this.state.healthy = false;
      this.observer.health?.(this.name, false);
    }
    // One restart at a time: the list and the watch may both report the same outage.
    if (this.restartTimer) return;
    if (this.healthySince !== undefined && Date.now() - this.healthySince >= this.policy.resetAfterMs) {
      this.failures = 0;
    }
    this.healthySince = undefined;
    const delay = restartDelayMs(this.policy, this.failures++);
    this.state.restarts++;
    this.observer.restarted?.(this.name, delay, this.state.lastError);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.attempt();
    }, delay);
  }

  health(): InformerHealth {
    return { ...this.state };
  }

  started(): boolean {
    return this.starting !== undefined;
  }

  /** Started and listed at least once. */
  synced(): boolean {
    return this.state.synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.informer?.get(name, namespace);
  }

  /** Every cached object (in one namespace if given). */
  list(namespace?: string): T[] {
    return [...(this.informer?.list(namespace) ?? [])];
  }

  /**
   * Resolves with the first answer `decide` gives (anything but undefined) for the object as it is now and after
   * each change (undefined once it is deleted), or with undefined after `timeoutMs` or when `signal` aborts; it
   * leaves no timer or listener behind. `onChange` sees every change, for heartbeats. `decide` sees the object only
   * once the collection was listed: "not in an empty cache" would otherwise read as "deleted".
   */
  async waitFor<R>(
    namespace: string,
    name: string,
    decide: (object: T | undefined) => R | undefined,
    options: { timeoutMs: number; onChange?: Listener<T>; signal?: AbortSignal },
  ): Promise<R | undefined> {
    const { timeoutMs, onChange, signal } = options;
    const deadline = Date.now() + timeoutMs;
    await this.start();
    if (!(await this.untilSynced(deadline, signal))) return undefined;
    const now = decide(this.get(namespace, name));
    if (now !== undefined) return now;
    const id = key(namespace, name);
    return new Promise<R | undefined>((resolve) => {
      const listeners = this.listeners.get(id) ?? new Set<Listener<T>>();
      this.listeners.set(id, listeners);
      const done = (answer: R | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        listeners.delete(listener);
        if (listeners.size === 0) this.listeners.delete(id);
        resolve(answer);
      };
      const listener: Listener<T> = (object) => {
        onChange?.(object);
        const answer = decide(object);
        if (answer !== undefined) done(answer);
      };
      const timer = setTimeout(() => done(decide(this.get(namespace, name))), Math.max(0, deadline - Date.now()));
      const aborted = (): void => done(undefined);
      signal?.addEventListener('abort', aborted);
      listeners.add(listener);
      if (signal?.aborted) return done(undefined);
      // The cache may have changed between the first look and the subscription.
      const answer = decide(this.get(namespace, name));
      if (answer !== undefined) done(answer);
    });
  }

  private async untilSynced(deadline: number, signal?: AbortSignal): Promise<boolean> {
    if (this.state.synced) return true;
    if (signal?.aborted) return false;
    let timer: NodeJS.Timeout | undefined;
    let aborted: (() => void) | undefined;
    const ended = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      aborted = () => resolve(false);
      signal?.addEventListener('abort', aborted);
    });
    try {
      return await Promise.race([this.listed.then(() => true), ended]);
    } finally {
      clearTimeout(timer);
      if (aborted) signal?.removeEventListener('abort', aborted);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.informer?.stop();
  }
}

function key(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

function describe(error: unknown): string {
  if (error instanceof k8s.ApiException) return `Kubernetes API ${error.code}`;
  if (error instanceof Error) {
    const status = (error as { statusCode?: number }).statusCode;
    return status ? `${error.message} (HTTP ${status})` : error.message;
  }
  return String(error);
}
