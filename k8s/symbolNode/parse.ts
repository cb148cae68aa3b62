/** Validation of a SymbolNode read from the API server: metadata, then the spec with the zod schema. */
import type { z } from 'zod';
import type { SpecErrorReason } from '../conditions.js';
import { API_VERSION, KIND } from './api.js';
import type { ParsedSymbolNode, SymbolNodeMetadata } from './resource.js';
import { SymbolNodeSpecSchema } from './schema.js';
import { nodeNameProblem, quoteValue, type Role } from './values.js';

export interface SpecIssue {
  /** e.g. `spec.hostName`, `metadata.name`. */
  path: string;
  reason: SpecErrorReason;
  message: string;
}

export type ParseResult =
  | { ok: true; node: ParsedSymbolNode }
  | {
      ok: false;
      /** CamelCase condition reason of the first issue. */
      reason: SpecErrorReason;
      /** Every issue as `<path>: <message>`, joined with "; ". */
      message: string;
      issues: SpecIssue[];
    };

const FIELD_REASONS: Record<string, SpecErrorReason> = {
  network: 'UnknownNetwork',
  networkPackage: 'InvalidNetworkPackage',
  hostName: 'InvalidHostName',
  friendlyName: 'InvalidFriendlyName',
  image: 'InvalidImage',
  restImage: 'InvalidImage',
  mongoImage: 'InvalidImage',
  volumeSize: 'InvalidQuantity',
  resources: 'InvalidResources',
  podAnnotations: 'InvalidPodAnnotations',
  nodeSelector: 'InvalidNodeSelector',
  tolerations: 'InvalidTolerations',
};

function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function toSpecIssues(error: z.ZodError): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath('spec', [...issue.path, key]), reason: 'UnknownField', message: 'unknown field' });
      }
      continue;
    }
    const custom = issue.code === 'custom' ? (issue.params as { reason?: SpecErrorReason } | undefined) : undefined;
    const missing = issue.message === 'is required';
    const field = typeof issue.path[0] === 'string' ? issue.path[0] : '';
    const reason: SpecErrorReason =
      custom?.reason ?? (missing ? 'MissingField' : (FIELD_REASONS[field] ?? 'InvalidSpec'));
    out.push({ path: formatPath('spec', issue.path), reason, message: issue.message });
  }
  return out;
}

function failure(issues: SpecIssue[]): ParseResult {
  return {
    ok: false,
    reason: issues[0]?.reason ?? 'InvalidSpec',
    message: issues.map((i) => `${i.path}: ${i.message}`).join('; '),
    issues,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const optionalString = (v: unknown) => (typeof v === 'string' ? v : undefined);
/** The API server sends strings; objects deserialised by the client library carry Dates. */
const timestamp = (v: unknown) =>
  typeof v === 'string' ? v : v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : undefined;
const stringMap = (v: unknown): Record<string, string> | undefined =>
  isRecord(v)
    ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : undefined;

/**
 * Validates a SymbolNode read from the API server (or a manifest with name, namespace and uid) and returns it
 * with defaults applied. On failure `reason` is a CamelCase condition reason and `message` names every field.
 * Cross-field rules (e.g. custom network needs a package) are checked once every field is valid on its own.
 */
export function parseSymbolNode(obj: unknown): ParseResult {
  if (!isRecord(obj)) return failure([{ path: '(object)', reason: 'InvalidObject', message: 'is not an object' }]);
  const head: SpecIssue[] = [];
  if (obj.apiVersion !== API_VERSION) {
    head.push({
      path: 'apiVersion',
      reason: 'InvalidObject',
      message: `${quoteValue(obj.apiVersion)} is not "${API_VERSION}"`,
    });
  }
  if (obj.kind !== KIND) {
    head.push({ path: 'kind', reason: 'InvalidObject', message: `${quoteValue(obj.kind)} is not "${KIND}"` });
  }
  const meta = isRecord(obj.metadata) ? obj.metadata : undefined;
  if (meta === undefined) {
    head.push({ path: 'metadata', reason: 'InvalidObject', message: 'is required' });
  } else {
    for (const key of ['namespace', 'uid'] as const) {
      if (typeof meta[key] !== 'string' || meta[key] === '') {
        head.push({ path: `metadata.${key}`, reason: 'InvalidObject', message: 'is required' });
      }
    }
    const nameProblem = nodeNameProblem(meta.name);
    if (nameProblem !== undefined) head.push({ path: 'metadata.name', reason: 'InvalidName', message: nameProblem });
  }
  if (obj.spec === undefined) head.push({ path: 'spec', reason: 'MissingField', message: 'is required' });
  const parsed = obj.spec === undefined ? undefined : SymbolNodeSpecSchema.safeParse(obj.spec);
  const issues = [...head, ...(parsed !== undefined && !parsed.success ? toSpecIssues(parsed.error) : [])];
  if (issues.length > 0 || parsed === undefined || !parsed.success || meta === undefined) return failure(issues);

  const generation = meta.generation;
  const resourceVersion = optionalString(meta.resourceVersion);
  const creationTimestamp = timestamp(meta.creationTimestamp);
  const deletionTimestamp = timestamp(meta.deletionTimestamp);
  const labels = stringMap(meta.labels);
  const annotations = stringMap(meta.annotations);
  const metadata: SymbolNodeMetadata = {
    name: meta.name as string,
    namespace: meta.namespace as string,
    uid: meta.uid as string,
    ...(typeof generation === 'number' ? { generation } : {}),
    ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    ...(creationTimestamp !== undefined ? { creationTimestamp } : {}),
    ...(deletionTimestamp !== undefined ? { deletionTimestamp } : {}),
    ...(labels !== undefined ? { labels } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
    ...(Array.isArray(meta.finalizers)
      ? { finalizers: meta.finalizers.filter((f): f is string => typeof f === 'string') }
      : {}),
  };
  return {
    ok: true,
    node: {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata,
      spec: parsed.data,
      // Status is written by the operator itself; it is passed through, not validated.
      ...(isRecord(obj.status) ? { status: obj.status } : {}),
    },
  };
}

/** True for roles that run the full API stack (MongoDB, broker, REST). */
export function isApiRole(role: Role): boolean {
  return role === 'api' || role === 'dual';
}
