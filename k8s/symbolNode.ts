/**
 * The SymbolNode custom resource: API constants, TypeScript types, and a zod schema that mirrors the CRD in
 * `k8s/manifests/crd/symbolnodes.yaml`.
 *
 * Why validate twice: the CRD installed in a cluster may be older than the operator (or installed without its
 * CEL rules), so the operator re-checks every spec before acting on it and reports a precise, human-readable
 * reason in the SymbolNode's conditions instead of rendering a broken StatefulSet. `test/unit/k8s-crd.test.ts`
 * keeps the two in agreement (enums, required fields, defaults, patterns).
 *
 * This module is pure (no Node built-ins; only a type import from the Kubernetes client, erased at build) so
 * workflow code may import it.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Condition, Phase, SpecErrorReason } from './conditions.js';
import {
  nodeSelectorSchema,
  podAnnotationsSchema,
  resourcesSchema,
  tolerationsSchema,
} from './symbolNode/podFields.js';
import {
  DATA_RETENTION_POLICIES,
  DEFAULT_IDENTITY_SECRET_KEY,
  DEFAULT_PACKAGE_CONFIGMAP_KEY,
  DEFAULT_PEER_PORT,
  DEFAULT_PEER_ROLES,
  DNS_SUBDOMAIN_MAX_LENGTH,
  FRIENDLY_NAME_MAX_LENGTH,
  hostNameProblem,
  IMAGE_MAX_LENGTH,
  MIN_VOLUME_SIZE,
  NETWORKS,
  nodeNameProblem,
  PEERS_MAX_ITEMS,
  quantitySchema,
  quantityToNumber,
  quoteValue,
  RE,
  ROLES,
  typed,
  URL_MAX_LENGTH,
  type Network,
  type Role,
} from './symbolNode/values.js';

// ---------------------------------------------------------------------------------------------------------------
// API identity
// ---------------------------------------------------------------------------------------------------------------

export const GROUP = 'symbol.nodeoperator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;
export const KIND = 'SymbolNode';
export const LIST_KIND = 'SymbolNodeList';
export const PLURAL = 'symbolnodes';
export const SINGULAR = 'symbolnode';
export const SHORT_NAMES = ['sn'] as const;
export const CATEGORIES = ['symbol'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Aliases in the naming style other modules use. */
export const symbolNodeGroup = GROUP;
export const symbolNodeVersion = VERSION;
export const symbolNodeApiVersion = API_VERSION;
export const symbolNodeKind = KIND;
export const symbolNodePlural = PLURAL;

/** Recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/). */
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_NETWORK = `${GROUP}/network`;
export const LABEL_ROLE = `${GROUP}/role`;
export const APP_NAME = 'symbol-node';
export const MANAGER_NAME = 'symbol-node-operator';

/** Pod-template annotation holding {@link configHash} of everything mounted, so a config change rolls the pod. */
export const ANNOTATION_CONFIG_HASH = `${GROUP}/config-hash`;

// Enums, limits, patterns and value checks live in ./symbolNode/values.ts; the rules of the fields copied into
// pods in ./symbolNode/podFields.ts. Re-exported so that importers keep one module.
export {
  DATA_RETENTION_POLICIES,
  DEFAULT_IDENTITY_SECRET_KEY,
  DEFAULT_PACKAGE_CONFIGMAP_KEY,
  DEFAULT_PEER_PORT,
  DEFAULT_PEER_ROLES,
  DNS_SUBDOMAIN_MAX_LENGTH,
  FRIENDLY_NAME_MAX_LENGTH,
  HEADLESS_SERVICE_SUFFIX,
  HOST_NAME_MAX_LENGTH,
  hostNameProblem,
  IMAGE_MAX_LENGTH,
  isIpAddress,
  MIN_VOLUME_SIZE,
  NETWORKS,
  NODE_NAME_MAX_LENGTH,
  nodeNameProblem,
  PATTERNS,
  PEERS_MAX_ITEMS,
  quantityToNumber,
  quoteValue,
  ROLES,
  URL_MAX_LENGTH,
  type DataRetentionPolicy,
  type Network,
  type Role,
} from './symbolNode/values.js';
export {
  LABEL_VALUE_MAX_LENGTH,
  labelValueProblem,
  POD_ANNOTATIONS_MAX_BYTES,
  POD_MAP_MAX_ENTRIES,
  QUALIFIED_NAME_MAX_LENGTH,
  qualifiedNameProblem,
  RESOURCE_NAMES,
  TOLERATIONS_MAX_ITEMS,
} from './symbolNode/podFields.js';

// ---------------------------------------------------------------------------------------------------------------
// zod schema for .spec
// ---------------------------------------------------------------------------------------------------------------

const imageSchema = z
  .string(typed('a string'))
  .max(IMAGE_MAX_LENGTH, { error: `must be at most ${IMAGE_MAX_LENGTH} characters` })
  .regex(RE.image, {
    error: (iss) =>
      `${quoteValue(iss.input)} is not a container image reference with a tag or digest (e.g. symbolplatform/symbol-server:gcc-1.0.3.9)`,
  });

const dnsSubdomainSchema = z
  .string(typed('a string'))
  .max(DNS_SUBDOMAIN_MAX_LENGTH, { error: `must be at most ${DNS_SUBDOMAIN_MAX_LENGTH} characters` })
  .regex(RE.dnsSubdomain, {
    error: (iss) => `${quoteValue(iss.input)} is not a valid Kubernetes object name (RFC 1123 subdomain)`,
  });

const dataKeySchema = z
  .string(typed('a string'))
  .max(DNS_SUBDOMAIN_MAX_LENGTH, { error: `must be at most ${DNS_SUBDOMAIN_MAX_LENGTH} characters` })
  .regex(RE.dataKey, {
    error: (iss) => `${quoteValue(iss.input)} is not a valid data key (letters, digits, '-', '_', '.')`,
  });

const networkPackageSchema = z
  .strictObject(
    {
      url: z
        .string(typed('a string'))
        .max(URL_MAX_LENGTH, { error: `must be at most ${URL_MAX_LENGTH} characters` })
        .regex(RE.url, { error: (iss) => `${quoteValue(iss.input)} is not an http(s) URL` })
        .optional(),
      sha256: z
        .string(typed('a string'))
        .regex(RE.sha256, { error: (iss) => `${quoteValue(iss.input)} is not a lower-case hex SHA-256 digest` })
        .optional(),
      configMapRef: z
        .strictObject(
          {
            name: dnsSubdomainSchema,
            key: dataKeySchema.default(DEFAULT_PACKAGE_CONFIGMAP_KEY),
          },
          typed('an object'),
        )
        .optional(),
    },
    typed('an object'),
  )
  .superRefine((p, ctx) => {
    if ((p.url === undefined) === (p.configMapRef === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set exactly one of url or configMapRef',
        params: { reason: 'ConflictingFields' satisfies SpecErrorReason },
      });
    }
    if (p.url !== undefined && p.sha256 === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['sha256'],
        message: 'is required with url: a downloaded package is verified before use',
        params: { reason: 'MissingField' satisfies SpecErrorReason },
      });
    }
  });

const portSchema = z
  .int(typed('an integer'))
  .min(1, { error: (iss) => `${quoteValue(iss.input)} is not a TCP port (1-65535)` })
  .max(65535, { error: (iss) => `${quoteValue(iss.input)} is not a TCP port (1-65535)` });

/** A DNS name or IP address, as catapult's `[localnode] host` and a peer's `host` take it. */
const hostNameSchema = () =>
  z.string(typed('a string')).check((ctx) => {
    const problem = hostNameProblem(ctx.value);
    if (problem !== undefined) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: problem,
        params: { reason: 'InvalidHostName' satisfies SpecErrorReason },
      });
    }
  });

/** One entry of peers-p2p.json / peers-api.json, in the spec's camelCase (the file says `api_port`). */
const peerSchema = z.strictObject(
  {
    /** The peer's main account public key: its identity, checked against the certificate chain it presents. */
    publicKey: z
      .string(typed('a string'))
      .regex(RE.publicKey, { error: (iss) => `${quoteValue(iss.input)} is not a public key (64 hex digits)` }),
    host: hostNameSchema(),
    port: portSchema.default(DEFAULT_PEER_PORT),
    /** The peer's REST port, for tools that read the file (shoestring); catapult ignores it. */
    apiPort: portSchema.optional(),
    name: z
      .string(typed('a string'))
      .max(FRIENDLY_NAME_MAX_LENGTH, { error: `must be at most ${FRIENDLY_NAME_MAX_LENGTH} characters` })
      .default(''),
    roles: z
      .string(typed('a string'))
      .regex(RE.peerRoles, {
        error: (iss) => `${quoteValue(iss.input)} is not a comma-separated list of Peer, Api, Voting, IPv4, IPv6`,
      })
      .default(DEFAULT_PEER_ROLES),
  },
  typed('a peer (publicKey, host, port, apiPort, name, roles)'),
);

const peerListSchema = z
  .array(peerSchema, typed('a list of peers'))
  .max(PEERS_MAX_ITEMS, { error: `must have at most ${PEERS_MAX_ITEMS} entries` });

const peersSchema = z.strictObject(
  { p2p: peerListSchema.optional(), api: peerListSchema.optional() },
  typed('an object with p2p and/or api lists'),
);

const secretKeyRefSchema = z.strictObject(
  {
    name: dnsSubdomainSchema,
    key: dataKeySchema.default(DEFAULT_IDENTITY_SECRET_KEY),
  },
  typed('an object with name and key'),
);

const boolean = (dflt: boolean) => z.boolean(typed('true or false')).default(dflt);

const enumOf = <const T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, {
    error: (iss) =>
      iss.input === undefined
        ? 'is required'
        : `${quoteValue(iss.input)} is not a known ${what} (expected one of: ${values.join(', ')})`,
  });

export const SymbolNodeSpecSchema = z
  .strictObject(
    {
      /** catapult.server image. */
      image: imageSchema,
      network: enumOf(NETWORKS, 'network'),
      /** Where the network package (config templates, seed) comes from; required for `custom`, an override else. */
      networkPackage: networkPackageSchema.optional(),
      role: enumOf(ROLES, 'role').default('peer'),
      harvester: boolean(false),
      voter: boolean(false),
      hostName: hostNameSchema(),
      friendlyName: z
        .string(typed('a string'))
        .check((ctx) => {
          const v = ctx.value;
          const length = [...v].length;
          let problem: string | undefined;
          if (length > FRIENDLY_NAME_MAX_LENGTH) {
            problem = `${quoteValue(v)} is ${length} characters long; at most ${FRIENDLY_NAME_MAX_LENGTH} are allowed`;
          } else if (!RE.friendlyName.test(v)) {
            problem = `${quoteValue(v)} must be one line of printable characters without leading or trailing spaces`;
          }
          if (problem !== undefined) {
            ctx.issues.push({
              code: 'custom',
              input: v,
              message: problem,
              params: { reason: 'InvalidFriendlyName' satisfies SpecErrorReason },
            });
          }
        })
        .optional(),
      volumeSize: quantitySchema(RE.volumeSize, '500Gi').refine(
        (q) => (quantityToNumber(q) ?? 0) >= (quantityToNumber(MIN_VOLUME_SIZE) ?? 0),
        { error: (iss) => `${quoteValue(iss.input)} is too small; at least ${MIN_VOLUME_SIZE} is required` },
      ),
      storageClassName: dnsSubdomainSchema.optional(),
      /** Requests and limits of the catapult.server container. */
      resources: resourcesSchema.optional(),
      restImage: imageSchema.optional(),
      mongoImage: imageSchema.optional(),
      /** Bring-your-own main account key. Without it the operator generates one into `<name>-identity`. */
      identitySecretRef: secretKeyRefSchema.optional(),
      hostPort: boolean(false),
      dataRetentionPolicy: enumOf(DATA_RETENTION_POLICIES, 'dataRetentionPolicy').default('Retain'),
      paused: boolean(false),
      /** Extra annotations on the node's pods (StatefulSet and recovery Jobs): service meshes, scrapers, ... */
      podAnnotations: podAnnotationsSchema.optional(),
      /** Placement of the node's pods (and of its recovery Jobs, which must reach the same volume). */
      nodeSelector: nodeSelectorSchema.optional(),
      tolerations: tolerationsSchema.optional(),
      /**
       * Starting peers instead of the network's nodewatch or the operator's pinned list: `p2p` for
       * peers-p2p.json, `api` for peers-api.json (roles api and dual). A list given here replaces that file's
       * list; an empty list means "no starting peers" and is reported as NoKnownPeers.
       */
      peers: peersSchema.optional(),
    },
    typed('an object'),
  )
  .superRefine((spec, ctx) => {
    const issue = (path: string[], message: string, reason: SpecErrorReason) =>
      ctx.addIssue({ code: 'custom', path, message, params: { reason } });
    if (spec.network === 'custom' && spec.networkPackage === undefined) {
      issue(['networkPackage'], 'is required when network is "custom"', 'MissingNetworkPackage');
    }
    if (spec.role !== 'peer') {
      if (spec.restImage === undefined) issue(['restImage'], `is required for role "${spec.role}"`, 'MissingField');
      if (spec.mongoImage === undefined) issue(['mongoImage'], `is required for role "${spec.role}"`, 'MissingField');
    }
    if (spec.role === 'peer' && (spec.peers?.api?.length ?? 0) > 0) {
      issue(['peers', 'api'], 'is written only for roles api and dual (peers-api.json)', 'ConflictingFields');
    }
    if (spec.role === 'api') {
      for (const field of ['harvester', 'voter'] as const) {
        if (spec[field]) {
          issue(
            [field],
            `cannot be true for role "api" (a pure API node); use role "dual" for an API node that also harvests or votes`,
            'ConflictingFields',
          );
        }
      }
    }
  });

/** The spec after parsing: defaults applied, quantities as strings. */
export type SymbolNodeSpec = z.output<typeof SymbolNodeSpecSchema>;
/** The spec as a user writes it. */
export type SymbolNodeSpecInput = z.input<typeof SymbolNodeSpecSchema>;
export type NetworkPackage = NonNullable<SymbolNodeSpec['networkPackage']>;
export type SecretKeyRef = NonNullable<SymbolNodeSpec['identitySecretRef']>;
export type ResourceRequirements = NonNullable<SymbolNodeSpec['resources']>;
export type PeersSpec = NonNullable<SymbolNodeSpec['peers']>;
export type PeerSpec = NonNullable<PeersSpec['p2p']>[number];

// ---------------------------------------------------------------------------------------------------------------
// Resource types
// ---------------------------------------------------------------------------------------------------------------

/** Public data only: never a private key. */
export interface SymbolNodeStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  phase?: Phase;
  /** Node (transport) public key, 64 upper-case hex digits. */
  nodePublicKey?: string;
  /** Main account public key, 64 upper-case hex digits. */
  mainPublicKey?: string;
  /** Main account address, 39 base32 characters. */
  address?: string;
  /** The server image the running pod was built from. */
  image?: string;
  /** The network the data volume was initialised for. */
  network?: Network;
  /** Chain height last read from the node. */
  height?: number;
  /** When the height was last read (RFC 3339). */
  lastHeightCheck?: string;
}

/** The metadata of a validated SymbolNode: name, namespace and uid are guaranteed. */
export interface SymbolNodeMetadata {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  /** RFC 3339, as the API server sends it. */
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

/**
 * A SymbolNode as the API server returns it: nothing is guaranteed yet. Compatible with the client library's
 * `KubernetesObject` (informers, CustomObjectsApi). Pass it to {@link parseSymbolNode} before use.
 */
export interface SymbolNode {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: SymbolNodeSpecInput;
  status?: SymbolNodeStatus;
}

/** A SymbolNode whose metadata and spec passed validation, with defaults applied. */
export interface ParsedSymbolNode {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: SymbolNodeMetadata;
  spec: SymbolNodeSpec;
  status?: SymbolNodeStatus;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------------

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
