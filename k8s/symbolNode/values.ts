/**
 * Limits, patterns and value checks of the SymbolNode spec, shared by the zod schema (k8s/symbolNode.ts), the CRD
 * (the agreement test compares them) and other modules. Pure, like k8s/symbolNode.ts: workflow code imports it.
 */
import { z } from 'zod';

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
  /**
   * Kubernetes qualified name (label and annotation keys, toleration keys): an optional DNS subdomain prefix and
   * "/", then a name of at most 63 characters. The prefix's own limit (253) is {@link PATTERNS.qualifiedNameLongPrefix}.
   */
  qualifiedName:
    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$',
  /** A qualified name whose prefix is longer than a DNS subdomain may be. */
  qualifiedNameLongPrefix: '^[^/]{254,}/',
  /** Label value (nodeSelector values, toleration values); at most 63 characters. */
  labelValue: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$',
} as const;

const re = (p: string) => new RegExp(p, 'u');
export const RE = {
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
  qualifiedName: re(PATTERNS.qualifiedName),
  qualifiedNameLongPrefix: re(PATTERNS.qualifiedNameLongPrefix),
  labelValue: re(PATTERNS.labelValue),
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
// zod building blocks
// ---------------------------------------------------------------------------------------------------------------

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Error-map for the base type of a field: distinguishes "missing" from "wrong type". */
export const typed = (expected: string) => ({
  error: (iss: { input?: unknown }) =>
    iss.input === undefined
      ? 'is required'
      : `must be ${expected}, not ${typeName(iss.input)} (${quoteValue(iss.input)})`,
});

/** int-or-string quantity, normalised to a string. */
export function quantitySchema(pattern: RegExp, example: string) {
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
