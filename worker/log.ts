/**
 * The operator's log: one JSON object per line and event (`{time, level, msg, ...fields}`), so that a log
 * pipeline can filter by node (`node: "<namespace>/<name>"`) or workflow (`workflowId`) instead of parsing
 * prefixed text. The Temporal SDK's own log (worker, activities, Core) is routed through the same logger.
 *
 * Nothing secret may leave through it: fields whose name says they hold a secret are replaced, and so is a
 * 64-hex value (the shape of a Symbol private key) written after such a name in a message.
 */
import { DefaultLogger, type LogEntry, type LogLevel as TemporalLogLevel } from '@temporalio/worker';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line (e.g. `{ node: 'symbol/sai-peer' }`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Where each line goes (without its newline); default: stdout. */
  sink?: (line: string) => void;
  /** Fields on every line. */
  fields?: LogFields;
  /** For tests. */
  now?: () => Date;
}

const severity: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** `SNO_LOG_LEVEL` (debug|info|warn|error, any case); unset: info. A typo is an error, not a silent default. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env.SNO_LOG_LEVEL?.trim().toLowerCase();
  if (!value) return 'info';
  if ((logLevels as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`invalid operator configuration: SNO_LOG_LEVEL=${value}: expected one of ${logLevels.join(', ')}`);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = severity[options.level ?? 'info'];
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const make = (bound: LogFields): Logger => {
    const emit =
      (level: LogLevel) =>
      (message: string, fields?: LogFields): void => {
        if (severity[level] < threshold) return;
        sink(formatLine(now(), level, message, { ...bound, ...fields }));
      };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** One line; the entry's own keys come first and cannot be overwritten by a field of the same name. */
export function formatLine(time: Date, level: LogLevel, message: string, fields: LogFields): string {
  const entry: LogFields = { time: time.toISOString(), level, msg: redactText(message) };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || key in entry) continue;
    entry[key] = sanitize(key, value, new WeakSet());
  }
  return JSON.stringify(entry);
}

/** Field names that hold secrets: private keys, tokens, passwords, webhook URLs (they embed their token). */
const secretKey = /private|secret|password|passphrase|token|api.?key|authorization|credential|webhook.?url|mnemonic/i;
/** A 64-hex value right after such a name in free text (`privateKey=ABCD…`, `"privateKey":"ABCD…"`). */
const secretInText =
  /((?:private|secret|signing|vrf|remote|node|main|harvest\w*)[\s_-]?key["']?\s*[:=]\s*["']?)[0-9a-f]{64}(?![0-9a-f])/gi;

export const redacted = '[redacted]';

export function redactText(text: string): string {
  return text.replace(secretInText, `$1${redacted}`);
}

function sanitize(key: string, value: unknown, seen: WeakSet<object>): unknown {
  const publicKey = /public/i.test(key);
  if (secretKey.test(key) && !publicKey) return redacted;
  if (typeof value === 'string') {
    if (/key/i.test(key) && !publicKey && /^[0-9a-f]{64}$/i.test(value)) return redacted;
    return redactText(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  // Not its other fields: a Kubernetes ApiException carries the request's echo (which may be a Secret) and headers.
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: redactText(value.message),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(value.cause !== undefined ? { cause: sanitize('cause', value.cause, seen) } : {}),
    };
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  // Values that know how to print themselves safely (e.g. worker/config.ts Redacted).
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return sanitize(key, (value as { toJSON(): unknown }).toJSON(), seen);
  if (Array.isArray(value)) return value.map((item) => sanitize(key, item, seen));
  if (value instanceof Map) return sanitize(key, Object.fromEntries(value), seen);
  if (value instanceof Set) return sanitize(key, [...value], seen);
  return ownFields(value, seen);
}

function ownFields(value: object, seen: WeakSet<object>): LogFields {
  const out: LogFields = {};
  for (const [key, item] of Object.entries(value)) {
    const clean = sanitize(key, item, seen);
    if (clean !== undefined) out[key] = clean;
  }
  return out;
}

const fromTemporal: Record<TemporalLogLevel, LogLevel> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger (`Runtime.install({ logger })`) writing through ours. `level` is the SDK's own
 * threshold (SNO_TEMPORAL_LOG_LEVEL: its worker state changes at INFO are noise in normal operation).
 * Its metadata (workflowId, runId, activityType, taskQueue, sdkComponent) become fields.
 */
export function temporalLogger(logger: Logger, level: TemporalLogLevel): DefaultLogger {
  const log = logger.child({ source: 'temporal' });
  return new DefaultLogger(level, (entry: LogEntry) => {
    const { message, meta } = entry;
    log[fromTemporal[entry.level]](message, meta ? { ...meta } : undefined);
  });
}

/**
 * For parts that take a `log?: (line: string) => void` option: each line becomes one event at `level`.
 * Lines that start with a `[component]` prefix keep it as a field instead of in the message.
 */
export function lineLogger(logger: Logger, level: LogLevel = 'info'): (line: string) => void {
  return (line) => {
    const match = /^\[([\w-]+)\]\s*(.*)$/s.exec(line);
    if (match) logger[level](match[2]!, { component: match[1] });
    else logger[level](line);
  };
}
