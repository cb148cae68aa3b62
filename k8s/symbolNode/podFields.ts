/**
 * Spec fields the operator copies into its pods (resources, podAnnotations, nodeSelector, tolerations), checked
 * with the rules the API server applies to a pod (k8s.io/kubernetes pkg/apis/core/validation, v1.37). Without them
 * a SymbolNode the CRD accepts could make every StatefulSet write fail with a 422 the user never sees: the rules
 * are also in the CRD (OpenAPI and CEL), and here for a cluster whose CRD is older than the operator.
 */
import { z } from 'zod';
import type { SpecErrorReason } from '../conditions.js';
import { quantitySchema, quantityToNumber, quoteValue, RE, typed } from './values.js';

/** Label values (and the names after a qualified name's prefix) have at most 63 characters. */
export const LABEL_VALUE_MAX_LENGTH = 63;
/** `<DNS subdomain of at most 253>/<name of at most 63>`. */
export const QUALIFIED_NAME_MAX_LENGTH = 253 + 1 + 63;
/** Entries of podAnnotations and of nodeSelector; it also bounds the cost of the CRD's CEL rules over the keys. */
export const POD_MAP_MAX_ENTRIES = 64;
export const TOLERATIONS_MAX_ITEMS = 32;
/**
 * The API server refuses a pod template whose annotations total more than 256 KiB (keys and values, in bytes);
 * 1 KiB is left for the operator's own (config hash, default container).
 */
export const POD_ANNOTATIONS_MAX_BYTES = 256 * 1024 - 1024;
/**
 * Only what catapult's container can use. Kubernetes would refuse most other names here anyway (a name without
 * a domain must be a standard one; extended resources need integer quantities and a limit equal to the request);
 * huge pages and devices mean nothing to catapult.
 */
export const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;

type Issue = { path: PropertyKey[]; message: string };
/** What the checks need of zod's refinement context (any schema's). */
interface Ctx {
  addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string; params: { reason: SpecErrorReason } }): void;
}

function report(ctx: Ctx, reason: SpecErrorReason, issues: Issue[]): void {
  for (const { path, message } of issues) ctx.addIssue({ code: 'custom', path, message, params: { reason } });
}

/**
 * Why `key` is not a Kubernetes qualified name (a label key, or an annotation key after lower-casing, as the API
 * server checks annotations), or undefined. The rule is the two CRD patterns: `qualifiedName` and not
 * `qualifiedNameLongPrefix`.
 */
export function qualifiedNameProblem(key: string): string | undefined {
  if (RE.qualifiedName.test(key) && !RE.qualifiedNameLongPrefix.test(key)) return undefined;
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const why =
    key === ''
      ? 'it is empty'
      : slash >= 0 && slash > 253
        ? `its prefix has ${slash} characters, at most 253 are allowed`
        : name.length > LABEL_VALUE_MAX_LENGTH
          ? `its name part has ${name.length} characters, at most ${LABEL_VALUE_MAX_LENGTH} are allowed`
          : 'a qualified name is an optional DNS subdomain and "/", then letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return `${quoteValue(key)} is not a valid key: ${why}`;
}

/** Why `value` cannot be a label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX_LENGTH) {
    return `${quoteValue(value)} is ${value.length} characters long; a label value has at most ${LABEL_VALUE_MAX_LENGTH}`;
  }
  if (!RE.labelValue.test(value)) {
    return `${quoteValue(value)} is not a valid label value (letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** UTF-8 length without TextEncoder (this module runs in the workflow sandbox too). */
function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

const maxEntries = (m: Record<string, unknown>) => Object.keys(m).length <= POD_MAP_MAX_ENTRIES;
const tooMany = { error: `must have at most ${POD_MAP_MAX_ENTRIES} entries` };

export const podAnnotationsSchema = z
  .record(z.string(), z.string(typed('a string')), typed('a map of strings'))
  .refine(maxEntries, tooMany)
  .superRefine((annotations, ctx) => {
    const issues: Issue[] = [];
    let bytes = 0;
    for (const [key, value] of Object.entries(annotations)) {
      const problem = qualifiedNameProblem(key.toLowerCase());
      if (problem !== undefined) issues.push({ path: [key], message: problem });
      bytes += utf8Length(key) + utf8Length(value);
    }
    if (bytes > POD_ANNOTATIONS_MAX_BYTES) {
      issues.push({
        path: [],
        message: `total ${bytes} bytes; at most ${POD_ANNOTATIONS_MAX_BYTES} are allowed (the API server refuses pod annotations over 256 KiB, and the operator adds its own)`,
      });
    }
    report(ctx, 'InvalidPodAnnotations', issues);
  });

export const nodeSelectorSchema = z
  .record(
    z.string(),
    z
      .string(typed('a string'))
      .max(LABEL_VALUE_MAX_LENGTH, { error: (iss) => labelValueProblem(iss.input as string) })
      .regex(RE.labelValue, { error: (iss) => labelValueProblem(iss.input as string) }),
    typed('a map of strings'),
  )
  .refine(maxEntries, tooMany)
  .superRefine((selector, ctx) => {
    const issues: Issue[] = [];
    for (const key of Object.keys(selector)) {
      const problem = qualifiedNameProblem(key);
      if (problem !== undefined) issues.push({ path: [key], message: problem });
    }
    report(ctx, 'InvalidNodeSelector', issues);
  });

/** A pod toleration (core/v1 Toleration), passed through to the node's pods and its recovery Jobs. */
const tolerationSchema = z
  .strictObject(
    {
      key: z
        .string(typed('a string'))
        .max(QUALIFIED_NAME_MAX_LENGTH, { error: `must be at most ${QUALIFIED_NAME_MAX_LENGTH} characters` })
        .optional(),
      operator: z.enum(['Exists', 'Equal'], typed('Exists or Equal')).optional(),
      value: z
        .string(typed('a string'))
        .max(LABEL_VALUE_MAX_LENGTH, { error: (iss) => labelValueProblem(iss.input as string) })
        .regex(RE.labelValue, { error: (iss) => labelValueProblem(iss.input as string) })
        .optional(),
      effect: z
        .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], typed('NoSchedule, PreferNoSchedule or NoExecute'))
        .optional(),
      tolerationSeconds: z.int(typed('an integer')).optional(),
    },
    typed('a toleration'),
  )
  .superRefine((t, ctx) => {
    const issues: Issue[] = [];
    const key = t.key ?? '';
    const problem = key === '' ? undefined : qualifiedNameProblem(key);
    if (problem !== undefined) issues.push({ path: ['key'], message: problem });
    if (key === '' && t.operator !== 'Exists') {
      issues.push({ path: ['operator'], message: 'must be Exists when key is empty (a toleration of every taint)' });
    }
    if (t.operator === 'Exists' && (t.value ?? '') !== '') {
      issues.push({ path: ['value'], message: 'must be empty when operator is Exists' });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      issues.push({ path: ['effect'], message: 'must be NoExecute when tolerationSeconds is set' });
    }
    report(ctx, 'InvalidTolerations', issues);
  });

export const tolerationsSchema = z
  .array(tolerationSchema, typed('a list of tolerations'))
  .max(TOLERATIONS_MAX_ITEMS, { error: `must have at most ${TOLERATIONS_MAX_ITEMS} entries` });

const resourceListSchema = z
  .record(
    z.string(),
    quantitySchema(RE.quantity, '500m, 4Gi').refine((q) => (quantityToNumber(q) ?? -1) >= 0, {
      error: (iss) => `${quoteValue(iss.input)} must not be negative`,
    }),
    typed('a map of resource names to quantities'),
  )
  .refine((m) => Object.keys(m).length <= 16, { error: 'must have at most 16 entries' })
  .superRefine((list, ctx) => {
    const known: readonly string[] = RESOURCE_NAMES;
    const unknown = Object.keys(list).filter((name) => !known.includes(name));
    report(
      ctx,
      'InvalidResources',
      unknown.map((name) => ({
        path: [name],
        message: `${quoteValue(name)} is not a resource the node's container can use (one of: ${RESOURCE_NAMES.join(', ')})`,
      })),
    );
  });

export const resourcesSchema = z
  .strictObject(
    {
      requests: resourceListSchema.optional(),
      limits: resourceListSchema.optional(),
    },
    typed('an object with requests and/or limits'),
  )
  .superRefine((r, ctx) => {
    for (const [name, request] of Object.entries(r.requests ?? {})) {
      const limit = r.limits?.[name];
      if (limit === undefined) continue;
      if ((quantityToNumber(request) ?? 0) > (quantityToNumber(limit) ?? Infinity)) {
        report(ctx, 'InvalidResources', [
          {
            path: ['requests', name],
            message: `${quoteValue(request)} must not exceed resources.limits.${name} (${quoteValue(limit)})`,
          },
        ]);
      }
    }
  });
