/**
 * Alerts about SymbolNodes. Kubernetes Events and the SymbolNode status are always written (by the
 * remediation code, through this interface); a webhook sink is optional and configured with a URL kept in a
 * Secret. One JSON body suits Slack (`text`), Discord (`content`) and generic receivers (structured fields).
 *
 * Nothing here throws into the operator loop: delivery problems become a {@link WebhookResult} and a log line.
 * The webhook URL is a credential (Slack and Discord put the token in the path): it is never logged or
 * included in an error or body; log lines name only its host.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { PodProblem } from '../workflows/remediation/kinds.js';

export interface AlertNode {
  namespace: string;
  name: string;
}

export type AlertSeverity = 'warning' | 'critical';

export interface Alert {
  node: AlertNode;
  severity: AlertSeverity;
  /** CamelCase, e.g. a {@link PodProblem} reason. */
  reason: string;
  message: string;
  at: Date;
  /**
   * Set by the node's lifecycle, which decides whether to alert at all (it dedupes by reason in its own state, so
   * restarts and replicas do not repeat an alert): the same on every retry of one alert's delivery, so the
   * receiver (and this process) can drop a repeated delivery. Sent as the `Idempotency-Key` header and in the body.
   */
  idempotencyKey?: string;
}

export interface Notifier {
  /** Never rejects for delivery problems: a notifier failing must not stop remediation. */
  notify(alert: Alert): Promise<void>;
}

/**
 * Maps a pod problem to an alert: critical when the node is down or needs a person (node lost, pod failed,
 * OOM, crash loop, a problem the operator cannot remediate, or data that may need recovery), warning otherwise.
 */
export function alertFromProblem(node: AlertNode, problem: PodProblem, at: Date): Alert {
  const critical =
    !problem.remediable ||
    problem.uncleanStop ||
    ['StuckOnLostNode', 'PodFailed', 'OOMKilled', 'CrashLoop'].includes(problem.kind);
  return { node, severity: critical ? 'critical' : 'warning', reason: problem.reason, message: problem.message, at };
}

// --------------------------------------------------------------------------------------------------------
// Webhook

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface WebhookNotifierOptions {
  url: string;
  /** Injectable for tests; default the global fetch. */
  fetch?: FetchLike;
  /** Global limit over all nodes, sliding 60 s window. Alerts over it are counted and summarised. Default 20. */
  maxPerMinute?: number;
  /** Per attempt. Default 5 s. */
  timeoutMs?: number;
  /** Attempts per alert including the first. Default 3. */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt, capped at 30 s. Default 1 s. */
  backoffMs?: number;
  /** Clock for rate limiting; default Date.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

export type WebhookResult =
  | { status: 'sent'; attempts: number; httpStatus: number; suppressedIncluded: number }
  | { status: 'duplicate' }
  | { status: 'rateLimited'; suppressed: number }
  | { status: 'failed'; attempts: number; error: string };

export interface WebhookStats {
  sent: number;
  duplicates: number;
  rateLimited: number;
  failed: number;
  /** Rate-limited alerts not yet reported in a sent alert. */
  suppressedPending: number;
}

/** The body posted to the webhook. */
export interface WebhookBody {
  /** Slack. */
  text: string;
  /** Discord (≤ 2000 characters). */
  content: string;
  /** Discord: never ping @everyone/@here or roles from text that came from a pod. */
  allowed_mentions: { parse: string[] };
  source: 'symbol-node-operator';
  node: string;
  namespace: string;
  severity: AlertSeverity;
  reason: string;
  message: string;
  /** RFC 3339. */
  at: string;
  /** Alerts dropped by the rate limit since the previous sent alert. */
  suppressed: number;
  /** The alert's idempotency key ({@link Alert.idempotencyKey}), when it has one. */
  idempotencyKey?: string;
}

const DISCORD_CONTENT_MAX = 2000;
const MAX_BACKOFF_MS = 30_000;
const SUPPRESSED_EXAMPLES = 5;

/** The host of a URL, for log lines; never the path, query or credentials. */
export function urlHost(url: string): string {
  try {
    return new URL(url).host || 'invalid-url';
  } catch {
    return 'invalid-url';
  }
}

export function webhookBody(alert: Alert, suppressed = 0, suppressedExamples: readonly string[] = []): WebhookBody {
  const where = `${alert.node.namespace}/${alert.node.name}`;
  let text = `[${alert.severity.toUpperCase()}] ${where}: ${alert.reason}: ${alert.message}`;
  if (suppressed > 0) {
    const examples = suppressedExamples.length > 0 ? ` (${suppressedExamples.join(', ')})` : '';
    text += ` (${suppressed} alert${suppressed === 1 ? '' : 's'} suppressed by the rate limit${examples})`;
  }
  return {
    text,
    content: text.length <= DISCORD_CONTENT_MAX ? text : `${text.slice(0, DISCORD_CONTENT_MAX - 1)}…`,
    allowed_mentions: { parse: [] },
    source: 'symbol-node-operator',
    node: alert.node.name,
    namespace: alert.node.namespace,
    severity: alert.severity,
    reason: alert.reason,
    message: alert.message,
    at: alert.at.toISOString(),
    suppressed,
    ...(alert.idempotencyKey ? { idempotencyKey: alert.idempotencyKey } : {}),
  };
}

export class WebhookNotifier implements Notifier {
  private readonly url: string;
  private readonly host: string;
  private readonly fetchFn: FetchLike;
  private readonly maxPerMinute: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: (line: string) => void;
  /** Idempotency keys delivered or being delivered, oldest first: a retried activity does not post twice. */
  private readonly deliveredKeys = new Set<string>();
  /** Times of alerts let through in the last minute. */
  private sentTimes: number[] = [];
  private suppressed = 0;
  private suppressedExamples: string[] = [];
  private readonly counters = { sent: 0, duplicates: 0, rateLimited: 0, failed: 0 };

  constructor(options: WebhookNotifierOptions) {
    const host = urlHost(options.url);
    if (!/^https?:$/.test(safeProtocol(options.url))) {
      throw new Error(`webhook URL (host ${host}) must be an http(s) URL`);
    }
    this.url = options.url;
    this.host = host;
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.maxPerMinute = options.maxPerMinute ?? 20;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffMs = options.backoffMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => sleepMs(ms));
    this.log = options.log ?? ((line) => console.log(`[notifier] ${line}`));
  }

  async notify(alert: Alert): Promise<void> {
    await this.send(alert);
  }

  stats(): WebhookStats {
    return { ...this.counters, suppressedPending: this.suppressed };
  }

  /** Delivers one alert and says what happened. Never rejects. */
  async send(alert: Alert): Promise<WebhookResult> {
    // All bookkeeping happens before the first await, so concurrent calls see each other.
    const now = this.now();
    const key = alert.idempotencyKey;
    if (key !== undefined && this.deliveredKeys.has(key)) {
      this.counters.duplicates++;
      return { status: 'duplicate' };
    }
    this.sentTimes = this.sentTimes.filter((t) => now - t < 60_000);
    // Rate-limited alerts hold the key too: they are reported in the next summary, not re-sent one by one.
    if (key !== undefined) this.remember(key);
    if (this.sentTimes.length >= this.maxPerMinute) {
      this.counters.rateLimited++;
      this.suppressed++;
      const example = `${alert.node.namespace}/${alert.node.name} ${alert.reason}`;
      if (this.suppressedExamples.length < SUPPRESSED_EXAMPLES && !this.suppressedExamples.includes(example)) {
        this.suppressedExamples.push(example);
      }
      return { status: 'rateLimited', suppressed: this.suppressed };
    }
    this.sentTimes.push(now);
    const suppressed = this.suppressed;
    const examples = this.suppressedExamples;
    this.suppressed = 0;
    this.suppressedExamples = [];

    const result = await this.deliver(webhookBody(alert, suppressed, examples));
    if (result.status === 'sent') {
      this.counters.sent++;
      return { ...result, suppressedIncluded: suppressed };
    }
    // Not delivered: a repeat may try again, and the suppressed count goes into the next alert.
    this.counters.failed++;
    if (key !== undefined) this.deliveredKeys.delete(key);
    this.suppressed += suppressed;
    this.suppressedExamples = [...examples, ...this.suppressedExamples].slice(0, SUPPRESSED_EXAMPLES);
    this.log(
      `alert ${alert.reason} for ${alert.node.namespace}/${alert.node.name} not delivered to webhook host ${this.host} after ${result.attempts} attempt(s): ${result.error}`,
    );
    return result;
  }

  private remember(key: string): void {
    this.deliveredKeys.add(key);
    // Retries of one activity come within minutes: the newest thousand keys are plenty.
    if (this.deliveredKeys.size > 1000) this.deliveredKeys.delete(this.deliveredKeys.values().next().value!);
  }

  private async deliver(
    body: WebhookBody,
  ): Promise<
    { status: 'sent'; attempts: number; httpStatus: number } | { status: 'failed'; attempts: number; error: string }
  > {
    const payload = JSON.stringify(body);
    let error = 'not attempted';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await this.fetchFn(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(body.idempotencyKey ? { 'idempotency-key': body.idempotencyKey } : {}),
          },
          body: payload,
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: 'error',
        });
        // Drain the body so the connection can be reused; its content is not needed.
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return { status: 'sent', attempts: attempt, httpStatus: response.status };
        error = `HTTP ${response.status}`;
        const retryable = response.status === 429 || response.status === 408 || response.status >= 500;
        if (!retryable) return { status: 'failed', attempts: attempt, error };
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      } catch (e) {
        error = this.describeError(e);
      }
      if (attempt < this.maxAttempts) {
        const backoff = Math.min(this.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        await this.sleep(Math.min(Math.max(backoff, retryAfterMs ?? 0), MAX_BACKOFF_MS));
      }
    }
    return { status: 'failed', attempts: this.maxAttempts, error };
  }

  /** A short reason without the URL: fetch errors may quote it. */
  private describeError(e: unknown): string {
    let text: string;
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
      text = `timed out after ${this.timeoutMs} ms`;
    } else if (e instanceof Error) {
      const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
      const code = typeof cause?.code === 'string' ? cause.code : undefined;
      text = code ?? (typeof cause?.message === 'string' ? cause.message : e.message);
    } else {
      text = String(e);
    }
    return scrub(text, this.url, this.host);
  }
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** Removes the URL (and its path) from a text, keeping only the host. */
function scrub(text: string, url: string, host: string): string {
  let out = text.split(url).join(host);
  try {
    const { pathname, search } = new URL(url);
    if (pathname.length > 1) out = out.split(pathname).join('/…');
    if (search) out = out.split(search).join('');
  } catch {
    // not a URL: nothing more to remove
  }
  return out.replace(/\s+/g, ' ').trim().slice(0, 300);
}

// --------------------------------------------------------------------------------------------------------
// Fan-out

export type NotifyOutcome = { ok: true } | { ok: false; error: string };

/** Sends every alert to all notifiers at once; one failing does not affect the others. Never rejects. */
export class CompositeNotifier implements Notifier {
  private readonly notifiers: readonly Notifier[];
  private readonly log: (line: string) => void;

  constructor(notifiers: readonly Notifier[], options: { log?: (line: string) => void } = {}) {
    this.notifiers = [...notifiers];
    this.log = options.log ?? ((line) => console.log(`[notifier] ${line}`));
  }

  async notify(alert: Alert): Promise<void> {
    await this.notifyAll(alert);
  }

  /** One outcome per notifier, in order. */
  async notifyAll(alert: Alert): Promise<NotifyOutcome[]> {
    const settled = await Promise.allSettled(
      this.notifiers.map(async (n) => {
        await n.notify(alert);
      }),
    );
    return settled.map((s, i) => {
      if (s.status === 'fulfilled') return { ok: true };
      const error = s.reason instanceof Error ? s.reason.message : String(s.reason);
      this.log(`notifier ${i} failed for ${alert.node.namespace}/${alert.node.name} ${alert.reason}: ${error}`);
      return { ok: false, error };
    });
  }
}

// --------------------------------------------------------------------------------------------------------
// Configuration

/**
 * Reads the webhook URL from a Secret (`data`, base64, or `stringData`). Throws an Error with a one-line
 * message that names the Secret and key but never the value.
 */
export function webhookUrlFromSecret(secret: V1Secret, key: string): string {
  const where = `Secret ${secret.metadata?.namespace ?? ''}${secret.metadata?.namespace ? '/' : ''}${secret.metadata?.name ?? '(unnamed)'}`;
  const encoded = secret.data?.[key];
  const raw = encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : secret.stringData?.[key];
  if (raw === undefined) throw new Error(`${where} has no key "${key}" for the webhook URL`);
  const value = raw.trim();
  if (value === '') throw new Error(`${where} key "${key}" is empty; expected an http(s) webhook URL`);
  if (/\s/.test(value)) throw new Error(`${where} key "${key}" contains whitespace; expected one http(s) URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${where} key "${key}" is not a valid URL; expected an http(s) webhook URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${where} key "${key}" uses ${url.protocol.replace(/:$/, '')}; expected an http(s) webhook URL`);
  }
  if (!url.hostname) throw new Error(`${where} key "${key}" has no host; expected an http(s) webhook URL`);
  return value;
}
