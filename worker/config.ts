import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SecretKeyLocation } from '../activities/alerts.js';

/** A secret value that prints as `[redacted]` however it is logged (String, JSON, util.inspect). */
export class Redacted {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

const optionalPath = z.string().min(1).optional();

const MiB = 1024 * 1024;
const HOST_ENTRY = /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[?[0-9a-f:.]+\]?)$/;

/**
 * Which hosts a SymbolNode's `spec.networkPackage.url` may name, and the limits of the download. The admin's own
 * preset locations (`SNO_NETWORK_PACKAGE_<PRESET>`) are not subject to them, except for the size and time limits.
 */
const networkPackageSourcesSchema = z.object({
  /** `*` any public host, `*.example.org` its subdomains (public addresses), a host name or IP: that host, any address. */
  allowedHosts: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((entry) => entry.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(HOST_ENTRY, 'expected *, *.<domain>, a host name or an IP address')).min(1))
    .default(['*']),
  allowHttp: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  maxBytes: z.coerce
    .number()
    .int()
    .positive()
    .max(1024 * MiB)
    .default(64 * MiB),
  timeoutMs: z.coerce.number().int().positive().default(120_000),
  /** Memory the loaded packages may hold together, least recently used dropped first (the Deployment has 1 GiB). */
  cacheMaxBytes: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(128 * MiB),
});

export type NetworkPackageSourceSettings = z.infer<typeof networkPackageSourcesSchema>;

/** Names under the SNO_NETWORK_PACKAGE_ prefix that are settings, not preset locations. */
const NETWORK_PACKAGE_SETTINGS: Record<string, keyof NetworkPackageSourceSettings> = {
  ALLOWED_HOSTS: 'allowedHosts',
  ALLOW_HTTP: 'allowHttp',
  MAX_BYTES: 'maxBytes',
  TIMEOUT_MS: 'timeoutMs',
  CACHE_BYTES: 'cacheMaxBytes',
};

/** How the operator and the client reach Temporal beyond its address: TLS (optionally mutual) and an API key. */
const temporalTlsSchema = z
  .object({
    /** `TEMPORAL_TLS=true`: server-authenticated TLS with the system CAs, no client certificate. */
    enabled: z.enum(['true', 'false']).optional(),
    certFile: optionalPath,
    keyFile: optionalPath,
    caFile: optionalPath,
    serverName: z.string().min(1).optional(),
  })
  .refine((tls) => !tls.certFile === !tls.keyFile, {
    message: 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (a client certificate and its key)',
  })
  .transform(({ enabled, ...files }) => ({
    ...files,
    /** Any TLS setting turns TLS on; `TEMPORAL_TLS=false` with one of them is refused below. */
    enabled: enabled === 'true' || Object.values(files).some((value) => value !== undefined),
    explicitlyOff: enabled === 'false',
  }))
  .refine((tls) => !(tls.explicitlyOff && tls.enabled), {
    message: 'TEMPORAL_TLS=false contradicts the TEMPORAL_TLS_* settings',
  })
  .transform(({ explicitlyOff: _off, ...tls }) => tls);

export type TemporalTlsConfig = z.infer<typeof temporalTlsSchema>;

/** Operator settings, read once from the environment and validated: a typo fails at start, in one line. */
const operatorConfigSchema = z.object({
  temporalAddress: z.string().min(1).default('127.0.0.1:7233'),
  temporalNamespace: z.string().min(1).default('default'),
  temporalTls: temporalTlsSchema,
  /** Temporal Cloud style API key (a bearer token); implies TLS. */
  temporalApiKey: z.instanceof(Redacted).optional(),
  /** The production entry leaves the CRD to the installer (least-privilege RBAC); `npm start` applies it. */
  installCrds: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** The Temporal SDK's own log (worker state changes at INFO); warnings and errors by default. */
  temporalLogLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
  /** The /healthz and /readyz server. */
  healthPort: z.coerce.number().int().min(0).max(65_535).default(8081),
  healthAddress: z.string().min(1).default('0.0.0.0'),
  taskQueue: z.string().min(1).default('symbol-node-operator'),
  /** Unset: in-cluster service account, else the default kubeconfig (KUBECONFIG honoured). */
  kubeconfig: z.string().min(1).optional(),
  /** Only SymbolNodes in this namespace are watched; unset watches all namespaces. */
  watchNamespace: z.string().min(1).optional(),
  /** The operator's own image, used for its helper containers (nemesis seed initialisation). */
  operatorImage: z.string().min(1).default('symbol-node-operator:dev'),
  /** Location overrides for the network presets (air-gapped clusters, tests): still checksum-verified. */
  networkPackageOverrides: z.record(z.string(), z.string()).default({}),
  networkPackageSources: networkPackageSourcesSchema,
  /** Workflow tasks, local and regular activities each. */
  maxConcurrentTasks: z.coerce.number().int().positive().default(200),
  maxCachedWorkflows: z.coerce.number().int().positive().default(2000),
  /** `<namespace>/<name>[:<key>]` of the Secret holding the alert webhook URL (key default `url`); unset: no webhook. */
  alertWebhookSecret: z
    .string()
    .regex(/^[a-z0-9-]+\/[a-z0-9.-]+(:[-._a-zA-Z0-9]+)?$/, 'expected <namespace>/<name>[:<key>]')
    .transform((value): SecretKeyLocation => {
      const [path = '', key = 'url'] = value.split(':');
      const [namespace = '', name = ''] = path.split('/');
      return { namespace, name, key };
    })
    .optional(),
  /** A Kubernetes node NotReady this long means its pods are lost: the operator replaces them. */
  lostNodeGraceMs: z.coerce.number().int().nonnegative().default(60_000),
  /** Every this often the SymbolNode watcher re-asserts every node's lifecycle (a node is never left unmanaged). */
  resyncSeconds: z.coerce.number().positive().default(300),
  /** Every this often the pod watcher compares each pod with what its lifecycle recorded, and re-reports it. */
  podResyncSeconds: z.coerce.number().positive().default(60),
  remediation: z
    .object({
      maxRemediations: z.coerce.number().int().positive().optional(),
      windowMs: z.coerce.number().int().positive().optional(),
      recoveryJobAttempts: z.coerce.number().int().positive().optional(),
      backoffMs: z.coerce.number().int().nonnegative().optional(),
    })
    .default({}),
});

export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const overrides: Record<string, string> = {};
  const sources: Partial<Record<keyof NetworkPackageSourceSettings, string>> = {};
  for (const [key, value] of Object.entries(env)) {
    const match = /^SNO_NETWORK_PACKAGE_([A-Z0-9_]+)$/.exec(key);
    if (!match || !value) continue;
    const setting = NETWORK_PACKAGE_SETTINGS[match[1]!];
    if (setting) sources[setting] = value;
    else overrides[match[1]!.toLowerCase()] = value;
  }
  const parsed = operatorConfigSchema.safeParse({
    temporalAddress: env.TEMPORAL_ADDRESS,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    temporalTls: {
      enabled: env.TEMPORAL_TLS || undefined,
      certFile: env.TEMPORAL_TLS_CERT || undefined,
      keyFile: env.TEMPORAL_TLS_KEY || undefined,
      caFile: env.TEMPORAL_TLS_CA || undefined,
      serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
    },
    temporalApiKey: readApiKey(env),
    installCrds: env.SNO_INSTALL_CRDS || undefined,
    temporalLogLevel: env.SNO_TEMPORAL_LOG_LEVEL?.toUpperCase() || undefined,
    healthPort: env.SNO_HEALTH_PORT || undefined,
    healthAddress: env.SNO_HEALTH_ADDRESS || undefined,
    taskQueue: env.SNO_TASK_QUEUE,
    kubeconfig: env.SNO_KUBECONFIG,
    watchNamespace: env.SNO_WATCH_NAMESPACE,
    operatorImage: env.SNO_OPERATOR_IMAGE,
    networkPackageOverrides: overrides,
    networkPackageSources: sources,
    maxConcurrentTasks: env.SNO_MAX_CONCURRENT_TASKS,
    maxCachedWorkflows: env.SNO_MAX_CACHED_WORKFLOWS,
    alertWebhookSecret: env.SNO_ALERT_WEBHOOK_SECRET,
    lostNodeGraceMs: env.SNO_LOST_NODE_GRACE_MS,
    resyncSeconds: env.SNO_RESYNC_SECONDS || undefined,
    podResyncSeconds: env.SNO_POD_RESYNC_SECONDS || undefined,
    remediation: {
      maxRemediations: env.SNO_REMEDIATION_MAX,
      windowMs: env.SNO_REMEDIATION_WINDOW_MS,
      recoveryJobAttempts: env.SNO_RECOVERY_JOB_ATTEMPTS,
      backoffMs: env.SNO_REMEDIATION_BACKOFF_MS,
    },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid operator configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** `TEMPORAL_API_KEY`, or the first line of the file `TEMPORAL_API_KEY_FILE` (a mounted Secret). Never echoed. */
function readApiKey(env: NodeJS.ProcessEnv): Redacted | undefined {
  const inline = env.TEMPORAL_API_KEY;
  const file = env.TEMPORAL_API_KEY_FILE;
  if (inline && file)
    throw new Error('invalid operator configuration: set TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE, not both');
  if (inline) return new Redacted(inline.trim());
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`invalid operator configuration: cannot read TEMPORAL_API_KEY_FILE ${file} (${code})`);
  }
  const key = text.trim();
  if (!key) throw new Error(`invalid operator configuration: TEMPORAL_API_KEY_FILE ${file} is empty`);
  return new Redacted(key);
}
