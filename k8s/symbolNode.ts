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

// ---------------------------------------------------------------------------------------------------------------
// Enums and limits (the CRD uses the same values; the agreement test compares them)
// ---------------------------------------------------------------------------------------------------------------

export const NETWORKS = ['mainnet', 'sai', 'custom'] as const;
export type Network = (typeof NETWORKS)[number];

/** `peer`: catapult.server only. `api`: full API (server + broker + MongoDB + REST), no harvesting or voting.
 *  `dual`: full API that may also harvest and vote. */
export const ROLES = ['peer', 'api', 'dual'] as const;
export type Role = (typeof ROLES)[number];

/** What happens to the data volume and the key material when the SymbolNode is deleted. */
export const DATA_RETENTION_POLICIES = ['Retain', 'Delete'] as const;
export type DataRetentionPolicy = (typeof DATA_RETENTION_POLICIES)[number];

export const DEFAULT_IDENTITY_SECRET_KEY = 'privateKey';
export const DEFAULT_PACKAGE_CONFIGMAP_KEY = 'package.zip';
export const MIN_VOLUME_SIZE = '1Gi';

/**
 * The StatefulSet controller labels each pod `controller-revision-hash=<statefulset name>-<hash>`; the hash is a
 * 32-bit FNV hash, "safe-encoded" to at most 10 characters (k8s.io/kubernetes pkg/controller/history
 * ControllerRevisionName/HashControllerRevision, v1.37.2), and a label value holds at most 63 characters:
 * 63 - 1 - 10 = 52. The StatefulSet is named after the SymbolNode, so this limits the SymbolNode's name.
 */
export const NODE_NAME_MAX_LENGTH = 52;
export const HEADLESS_SERVICE_SUFFIX = '-headless';

/** catapult stores host and friendly name lengths in one byte each (NetworkNode HostSize/FriendlyNameSize). */
export const HOST_NAME_MAX_LENGTH = 253;
/** 63 code points × at most 4 UTF-8 bytes = 252 bytes, within catapult's 255-byte limit. */
export const FRIENDLY_NAME_MAX_LENGTH = 63;
export const IMAGE_MAX_LENGTH = 512;
/** Entries per peer list in spec.peers (shoestring writes at most 20). */
export const PEERS_MAX_ITEMS = 64;
export const DEFAULT_PEER_PORT = 7900;
export const DEFAULT_PEER_ROLES = 'Peer';
export const URL_MAX_LENGTH = 2048;
export const DNS_SUBDOMAIN_MAX_LENGTH = 253;

/**
 * Regular expressions, written once and used both here (JavaScript, `u` flag) and in the CRD (Go RE2). They
 * avoid syntax the two engines read differently (no `\s`, `\w`, look-arounds or `\u` escapes).
 */
export const PATTERNS = {
  /** RFC 1035 label: the SymbolNode name is also a Service name. */
  nodeName: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
  /** RFC 1123 subdomain (Kubernetes object names, storage classes). */
  dnsSubdomain: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  /** Keys of ConfigMaps and Secrets. */
  dataKey: '^[-._a-zA-Z0-9]+$',
  /** Container image reference with a mandatory tag and/or sha256 digest (docker/distribution grammar). */
  image:
    '^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\\.([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?))*(:[0-9]+)?/)?' +
    '[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*' +
    '(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$',
  /**
   * Host name shape: an RFC 1123 DNS name, or something IPv6-like (with a colon). The precise rules (IP
   * validity, no all-numeric names) are a CEL rule in the CRD and {@link hostNameProblem} here.
   */
  hostName:
    '^([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$',
  /**
   * Printable, single line: no control characters (\n, \r, \t, NUL, DEL, C1), no Unicode line/paragraph
   * separators, no leading or trailing white space. It is written into config-node.properties.
   */
  friendlyName: '^[^\\p{Cc}\\p{Z}]([^\\p{Cc}\\p{Zl}\\p{Zp}]*[^\\p{Cc}\\p{Z}])?$',
  /** Volume sizes: a plain, non-negative Kubernetes quantity (no milli, no exponent). */
  volumeSize: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$',
  /** Any Kubernetes quantity (the pattern controller-gen emits for resource.Quantity). */
  quantity:
    '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  /** http(s) URL made of RFC 3986 characters only (no spaces, quotes, angle brackets or backslashes). */
  url: '^https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+$',
  sha256: '^[a-f0-9]{64}$',
  /** A catapult public key (a peer's main account key), hex in either case as catapult parses it. */
  publicKey: '^[0-9A-Fa-f]{64}$',
  /** `metadata.roles` of a peers file: catapult's NodeRoles names, comma-separated (ionet/NodeRoles.cpp). */
  peerRoles: '^(Peer|Api|Voting|IPv4|IPv6)(,(Peer|Api|Voting|IPv4|IPv6))*$',
  /** Resource names used as keys of requests/limits (cpu, memory, hugepages-2Mi, example.com/gpu). */
  resourceName: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$',
} as const;

const re = (p: string) => new RegExp(p, 'u');
const RE = {
  nodeName: re(PATTERNS.nodeName),
  dnsSubdomain: re(PATTERNS.dnsSubdomain),
  dataKey: re(PATTERNS.dataKey),
  image: re(PATTERNS.image),
  hostName: re(PATTERNS.hostName),
  friendlyName: re(PATTERNS.friendlyName),
  volumeSize: re(PATTERNS.volumeSize),
  quantity: re(PATTERNS.quantity),
  url: re(PATTERNS.url),
  sha256: re(PATTERNS.sha256),
  publicKey: re(PATTERNS.publicKey),
  peerRoles: re(PATTERNS.peerRoles),
  resourceName: re(PATTERNS.resourceName),
};

// ---------------------------------------------------------------------------------------------------------------
// Value checks shared by the schema and other modules
// ---------------------------------------------------------------------------------------------------------------

/** Quotes a user value for an error message: JSON escapes newlines and control characters, long values are cut. */
export function quoteValue(value: unknown): string {
  if (typeof value !== 'string') {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 80 ? json.slice(0, 79) + '…' : json;
  }
  const points = [...value];
  return JSON.stringify(points.length > 64 ? points.slice(0, 63).join('') + '…' : value);
}

const IPV4 = z.regexes.ipv4;
const IPV6 = z.regexes.ipv6;

function ipv6Groups(s: string): number[] {
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(zeros).fill('0'), ...t].map((g) => parseInt(g, 16));
}

/**
 * An IP address as the Kubernetes CEL `isIP()` accepts it: dotted IPv4 without leading zeros, or IPv6 without
 * a zone and not IPv4-mapped. (IPv6 with an embedded dotted IPv4 tail is refused here, a little stricter.)
 */
export function isIpAddress(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (!IPV6.test(s)) return false;
  const g = ipv6Groups(s);
  const mapped = g.length === 8 && g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  return !mapped;
}

/** Returns why `s` is not an acceptable `hostName`, or undefined if it is. */
export function hostNameProblem(s: string): string | undefined {
  const bad = `${quoteValue(s)} is not a valid DNS name or IP address`;
  if (s.length === 0) return 'must not be empty (omit the field to advertise no host)';
  if (s.length > HOST_NAME_MAX_LENGTH) return `${bad} (at most ${HOST_NAME_MAX_LENGTH} characters)`;
  if (isIpAddress(s)) return undefined;
  if (!RE.hostName.test(s) || s.includes(':')) return bad;
  // A name made only of digits and dots would be read as an (invalid) IPv4 address.
  if (/^[0-9.]+$/.test(s)) return bad;
  return undefined;
}

/** Returns why `name` cannot name a SymbolNode, or undefined if it can. */
export function nodeNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is required';
  if (name.length > NODE_NAME_MAX_LENGTH) {
    return (
      `${quoteValue(name)} is ${name.length} characters long; at most ${NODE_NAME_MAX_LENGTH} are allowed because ` +
      `the StatefulSet's pods carry the label controller-revision-hash=<name>-<hash of up to 10 characters>, ` +
      `which must fit in 63 characters`
    );
  }
  if (!RE.nodeName.test(name)) {
    return (
      `${quoteValue(name)} must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter and ` +
      `ending with a letter or digit) because it also names the node's Service`
    );
  }
  if (name.endsWith(HEADLESS_SERVICE_SUFFIX)) {
    return `${quoteValue(name)} must not end in "${HEADLESS_SERVICE_SUFFIX}": that suffix names the governing Service of the SymbolNode "${name.slice(0, -HEADLESS_SERVICE_SUFFIX.length)}"`;
  }
  return undefined;
}

const BINARY_SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * Converts a Kubernetes quantity to a number (approximate for very large or precise values; enough to compare).
 * Returns undefined when the string is not a quantity.
 */
export function quantityToNumber(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (!RE.quantity.test(q)) return undefined;
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$/.exec(q);
  if (m === null) return undefined;
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY_SUFFIX) return value * BINARY_SUFFIX[suffix]!;
  if (suffix in DECIMAL_SUFFIX) return value * DECIMAL_SUFFIX[suffix]!;
  if (/^[eE]/.test(suffix)) return value * 10 ** Number(suffix.slice(1));
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// zod schema for .spec
// ---------------------------------------------------------------------------------------------------------------

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Error-map for the base type of a field: distinguishes "missing" from "wrong type". */
const typed = (expected: string) => ({
  error: (iss: { input?: unknown }) =>
    iss.input === undefined
      ? 'is required'
      : `must be ${expected}, not ${typeName(iss.input)} (${quoteValue(iss.input)})`,
});

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

/** int-or-string quantity, normalised to a string. */
function quantitySchema(pattern: RegExp, example: string) {
  const message = (input: unknown) => `${quoteValue(input)} is not a valid quantity (e.g. ${example})`;
  return z
    .union(
      [
        z.string().regex(pattern, { error: (iss) => message(iss.input) }),
        z.int({ error: (iss) => message(iss.input) }).nonnegative({ error: (iss) => message(iss.input) }),
      ],
      {
        error: (iss) =>
          iss.input === undefined
            ? 'is required'
            : `must be a quantity (string or integer), not ${typeName(iss.input)} (${quoteValue(iss.input)})`,
      },
    )
    .transform((v) => String(v));
}

const resourceListSchema = z
  .record(
    z.string().regex(RE.resourceName, { error: (iss) => `${quoteValue(iss.input)} is not a valid resource name` }),
    quantitySchema(RE.quantity, '500m, 4Gi').refine((q) => (quantityToNumber(q) ?? -1) >= 0, {
      error: (iss) => `${quoteValue(iss.input)} must not be negative`,
    }),
    typed('a map of resource names to quantities'),
  )
  .refine((m) => Object.keys(m).length <= 16, { error: 'must have at most 16 entries' });

const resourcesSchema = z
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
        ctx.addIssue({
          code: 'custom',
          path: ['requests', name],
          message: `${quoteValue(request)} must not exceed resources.limits.${name} (${quoteValue(limit)})`,
          params: { reason: 'InvalidResources' satisfies SpecErrorReason },
        });
      }
    }
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

/** Label and annotation maps as Kubernetes stores them; the API server validates keys and values itself. */
const stringMapSchema = z.record(z.string(typed('a string')), z.string(typed('a string')), typed('a map of strings'));

/** A pod toleration (core/v1 Toleration), passed through to the node's pods. */
const tolerationSchema = z.strictObject(
  {
    key: z.string(typed('a string')).optional(),
    operator: z.enum(['Exists', 'Equal'], typed('Exists or Equal')).optional(),
    value: z.string(typed('a string')).optional(),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], typed('NoSchedule, PreferNoSchedule or NoExecute'))
      .optional(),
    tolerationSeconds: z.number(typed('a number')).int().optional(),
  },
  typed('a toleration'),
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
      podAnnotations: stringMapSchema.optional(),
      /** Placement of the node's pods (and of its recovery Jobs, which must reach the same volume). */
      nodeSelector: stringMapSchema.optional(),
      tolerations: z.array(tolerationSchema, typed('a list of tolerations')).optional(),
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
