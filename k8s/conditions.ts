/**
 * Kubebuilder-style status condition helpers (the metav1.Condition shape).
 *
 * Pure functions, no Node built-ins and no client library: workflow code may import this module.
 *
 * Conventions (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#typical-status-properties):
 * - `lastTransitionTime` moves only when `status` changes; a new reason or message alone does not move it.
 * - `observedGeneration` is the `metadata.generation` the controller acted on when it set the condition.
 * - `reason` is a CamelCase identifier; `message` is for humans.
 */

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

/** The condition types a SymbolNode reports. */
export const CONDITION_TYPES = ['Ready', 'Provisioned', 'Progressing', 'Degraded'] as const;
export type SymbolNodeConditionType = (typeof CONDITION_TYPES)[number];

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339, second precision, UTC (metav1.Time). */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** What a caller decides; the bookkeeping fields are filled in by {@link setCondition}. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** metav1.Condition validation, as enforced by the API server for the CRD's status schema. */
export const CONDITION_REASON_PATTERN = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';
export const CONDITION_TYPE_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';
export const CONDITION_REASON_MAX_LENGTH = 1024;
export const CONDITION_TYPE_MAX_LENGTH = 316;
export const CONDITION_MESSAGE_MAX_LENGTH = 32768;

const reasonRe = new RegExp(CONDITION_REASON_PATTERN);
const typeRe = new RegExp(CONDITION_TYPE_PATTERN);

/** Formats a time the way metav1.Time serialises: RFC 3339 in UTC without fractional seconds. */
export function formatConditionTime(now: Date): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('formatConditionTime: invalid date');
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Cuts a message to the API server's limit (in characters, counted as code points). */
export function truncateConditionMessage(message: string, max = CONDITION_MESSAGE_MAX_LENGTH): string {
  const points = [...message];
  if (points.length <= max) return message;
  return points.slice(0, max - 1).join('') + '…';
}

function checkUpdate(update: ConditionUpdate): void {
  if (update.type.length > CONDITION_TYPE_MAX_LENGTH || !typeRe.test(update.type)) {
    throw new RangeError(`setCondition: invalid condition type ${JSON.stringify(update.type)}`);
  }
  if (!(CONDITION_STATUSES as readonly string[]).includes(update.status)) {
    throw new RangeError(`setCondition: invalid condition status ${JSON.stringify(update.status)}`);
  }
  if (update.reason.length > CONDITION_REASON_MAX_LENGTH || !reasonRe.test(update.reason)) {
    throw new RangeError(
      `setCondition: reason ${JSON.stringify(update.reason)} is not a CamelCase identifier (${CONDITION_REASON_PATTERN})`,
    );
  }
}

/**
 * Returns a new condition list with `update` applied (the input is not modified; untouched entries keep their
 * identity). `lastTransitionTime` is set to `now` for a new condition or a status change and kept otherwise.
 * Throws a RangeError for a malformed type, status or reason: those are programming errors that the API server
 * would reject on the status patch anyway.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  checkUpdate(update);
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    lastTransitionTime:
      existing !== undefined && existing.status === update.status
        ? existing.lastTransitionTime
        : formatConditionTime(now),
    reason: update.reason,
    message: truncateConditionMessage(update.message),
  };
  if (existing === undefined) return [...list, next];
  if (conditionEquals(existing, next)) return [...list];
  return list.map((c) => (c === existing ? next : c));
}

/** Removes the condition of the given type, if present. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

export function isConditionFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'False';
}

/** Field-by-field equality; use it to skip status patches that would change nothing. */
export function conditionEquals(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.reason === b.reason &&
    a.message === b.message
  );
}

export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((c, i) => conditionEquals(c, y[i]!));
}

/** `status.phase`: a one-word summary for `kubectl get`. Conditions stay the source of truth. */
export const PHASES = [
  'Pending',
  'Provisioning',
  'Progressing',
  'Running',
  'Degraded',
  'Failed',
  'Paused',
  'Terminating',
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Condition reasons that mean "the spec itself is wrong": retrying cannot help, a human must edit the
 * SymbolNode. {@link computePhase} reports `Failed` when `Degraded` is True with one of these reasons.
 * `parseSymbolNode` returns exactly these reasons.
 */
export const SPEC_ERROR_REASONS = [
  'InvalidObject',
  'InvalidName',
  'InvalidSpec',
  'UnknownField',
  'MissingField',
  'UnknownNetwork',
  'InvalidNetworkPackage',
  'MissingNetworkPackage',
  'InvalidHostName',
  'InvalidFriendlyName',
  'InvalidImage',
  'InvalidQuantity',
  'InvalidResources',
  'InvalidPodAnnotations',
  'InvalidNodeSelector',
  'InvalidTolerations',
  'ConflictingFields',
] as const;
export type SpecErrorReason = (typeof SPEC_ERROR_REASONS)[number];

/**
 * The one table of failures found while provisioning that need something outside the spec: a referenced Secret
 * or package that is missing or wrong, a download source that is down, an API refusal. `failed`: the phase is
 * `Failed` (a person must act). `retryLater`: the lifecycle tries again now and then by itself, since creating
 * the Secret or package, the source coming back or a granted permission fixes it; the others wait for a spec
 * change. Workflows read it through workflows/remediation (failureRules.ts).
 */
export const INPUT_ERROR_RULES = {
  IdentitySecretNotFound: { failed: true, retryLater: true },
  IdentityKeyMissing: { failed: true, retryLater: true },
  InvalidIdentityKey: { failed: true, retryLater: true },
  ChecksumMismatch: { failed: true, retryLater: true },
  MissingFile: { failed: true, retryLater: true },
  InvalidChecksum: { failed: true, retryLater: false },
  InvalidArchive: { failed: true, retryLater: false },
  InvalidShoestringIni: { failed: true, retryLater: false },
  InvalidConfiguration: { failed: true, retryLater: false },
  SourceUnavailable: { failed: false, retryLater: true },
  // RBAC refused a request: an administrator fixes it, not the spec.
  KubernetesApi403: { failed: true, retryLater: true },
} as const satisfies Record<string, { failed: boolean; retryLater: boolean }>;
export type InputErrorReason = keyof typeof INPUT_ERROR_RULES;

export const INPUT_ERROR_REASONS = (Object.keys(INPUT_ERROR_RULES) as InputErrorReason[]).filter(
  (reason) => INPUT_ERROR_RULES[reason].failed,
);

export interface PhaseInput {
  conditions: readonly Condition[] | undefined;
  /** `spec.paused`. */
  paused?: boolean;
  /** `metadata.deletionTimestamp` is set. */
  deleting?: boolean;
}

/**
 * Derives the phase. Precedence, first match wins:
 * Terminating (being deleted) > Paused (spec.paused) > Failed (Degraded=True with a spec-error reason) >
 * Degraded (Degraded=True) > Provisioning (Provisioned present but not True) > Progressing (Progressing=True,
 * e.g. rollout, recovery, sync) > Running (Ready=True) > Pending (nothing known yet, or waiting, e.g. unschedulable).
 */
export function computePhase(input: PhaseInput): Phase {
  const { conditions } = input;
  if (input.deleting) return 'Terminating';
  if (input.paused) return 'Paused';
  const degraded = findCondition(conditions, 'Degraded');
  if (degraded?.status === 'True') {
    const needsPerson = [...SPEC_ERROR_REASONS, ...INPUT_ERROR_REASONS] as readonly string[];
    return needsPerson.includes(degraded.reason) ? 'Failed' : 'Degraded';
  }
  const provisioned = findCondition(conditions, 'Provisioned');
  if (provisioned !== undefined && provisioned.status !== 'True') return 'Provisioning';
  if (isConditionTrue(conditions, 'Progressing')) return 'Progressing';
  if (isConditionTrue(conditions, 'Ready')) return 'Running';
  return 'Pending';
}
