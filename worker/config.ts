import { z } from 'zod';
import type { SecretKeyLocation } from '../activities/alerts.js';

/** Operator settings, read once from the environment and validated: a typo fails at start, in one line. */
const operatorConfigSchema = z.object({
  temporalAddress: z.string().min(1).default('127.0.0.1:7233'),
  temporalNamespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('symbol-node-operator'),
  /** Unset: in-cluster service account, else the default kubeconfig (KUBECONFIG honoured). */
  kubeconfig: z.string().min(1).optional(),
  /** Only SymbolNodes in this namespace are watched; unset watches all namespaces. */
  watchNamespace: z.string().min(1).optional(),
  /** The operator's own image, used for its helper containers (nemesis seed initialisation). */
  operatorImage: z.string().min(1).default('symbol-node-operator:dev'),
  /** Location overrides for the network presets (air-gapped clusters, tests): still checksum-verified. */
  networkPackageOverrides: z.record(z.string(), z.string()).default({}),
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
  for (const [key, value] of Object.entries(env)) {
    const match = /^SNO_NETWORK_PACKAGE_([A-Z0-9_]+)$/.exec(key);
    if (match && value) overrides[match[1]!.toLowerCase()] = value;
  }
  const parsed = operatorConfigSchema.safeParse({
    temporalAddress: env.TEMPORAL_ADDRESS,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.SNO_TASK_QUEUE,
    kubeconfig: env.SNO_KUBECONFIG,
    watchNamespace: env.SNO_WATCH_NAMESPACE,
    operatorImage: env.SNO_OPERATOR_IMAGE,
    networkPackageOverrides: overrides,
    maxConcurrentTasks: env.SNO_MAX_CONCURRENT_TASKS,
    maxCachedWorkflows: env.SNO_MAX_CACHED_WORKFLOWS,
    alertWebhookSecret: env.SNO_ALERT_WEBHOOK_SECRET,
    lostNodeGraceMs: env.SNO_LOST_NODE_GRACE_MS,
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
