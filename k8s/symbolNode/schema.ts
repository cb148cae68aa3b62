/**
 * The zod schema of a SymbolNode's spec, mirroring the CRD (k8s/manifests/crd/symbolnodes.yaml); the agreement is
 * kept by test/unit/k8s-crd.test.ts. Issues carry a precise condition reason in params.reason where one applies.
 */
import { z } from 'zod';
import type { SpecErrorReason } from '../conditions.js';
import { nodeSelectorSchema, podAnnotationsSchema, resourcesSchema, tolerationsSchema } from './podFields.js';
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
  PEERS_MAX_ITEMS,
  quantitySchema,
  quantityToNumber,
  quoteValue,
  RE,
  ROLES,
  typed,
  URL_MAX_LENGTH,
} from './values.js';

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
