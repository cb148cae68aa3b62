/**
 * The one way the operator (worker and client connections) and the CLI reach Temporal: the address plus, when
 * configured, TLS (server CA, server name, mTLS client certificate) and an API key (e.g. Temporal Cloud).
 */
import type { TLSConfig } from '@temporalio/client';
import { readFile } from 'node:fs/promises';
import type { OperatorConfig } from './config.js';

export interface TemporalConnectOptions {
  address: string;
  /** Absent: plaintext. */
  tls?: TLSConfig;
  /** Sent as a bearer token; absent unless configured. Never logged. */
  apiKey?: string;
}

type TemporalSettings = Pick<OperatorConfig, 'temporalAddress' | 'temporalTls' | 'temporalApiKey'>;

/** Reads the certificate files named by the configuration; a missing file is a one-line error naming the variable. */
export async function temporalConnectOptions(config: TemporalSettings): Promise<TemporalConnectOptions> {
  const options: TemporalConnectOptions = { address: config.temporalAddress };
  const tls = config.temporalTls;
  // An API key travels as a bearer token: never in clear text.
  if (tls.enabled || config.temporalApiKey) {
    const settings: TLSConfig = {};
    if (tls.serverName) settings.serverNameOverride = tls.serverName;
    if (tls.caFile) settings.serverRootCACertificate = await readSetting('TEMPORAL_TLS_CA', tls.caFile);
    if (tls.certFile && tls.keyFile) {
      settings.clientCertPair = {
        crt: await readSetting('TEMPORAL_TLS_CERT', tls.certFile),
        key: await readSetting('TEMPORAL_TLS_KEY', tls.keyFile),
      };
    }
    options.tls = settings;
  }
  if (config.temporalApiKey) options.apiKey = config.temporalApiKey.reveal();
  return options;
}

/** For log lines: what kind of connection, never its secrets. */
export function describeTemporalConnection(config: TemporalSettings): string {
  const tls = config.temporalTls;
  const parts = [config.temporalAddress];
  if (tls.certFile) parts.push('mTLS');
  else if (tls.enabled || config.temporalApiKey) parts.push('TLS');
  if (config.temporalApiKey) parts.push('API key');
  return parts.join(', ');
}

async function readSetting(variable: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new Error(`cannot read ${variable} ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

export interface WaitOptions {
  /** Told about every failed attempt (the caller decides how loud to be). */
  onRetry: (error: string, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Connects, waiting out an unreachable Temporal (a restarting frontend, a Service without endpoints yet) with
 * capped exponential backoff instead of exiting into a crash loop. Aborting the signal ends the wait.
 */
export async function connectWhenReachable<T>(connect: () => Promise<T>, options: WaitOptions): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let delayMs = options.initialDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await connect();
    } catch (error) {
      options.signal?.throwIfAborted();
      options.onRetry(error instanceof Error ? error.message : String(error), attempt, delayMs);
    }
    options.signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delayMs);
      options.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(options.signal!.reason as Error);
        },
        { once: true },
      );
    });
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}
