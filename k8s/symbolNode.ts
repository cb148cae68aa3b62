/**
 * The SymbolNode custom resource: API constants, TypeScript types, and a zod schema that mirrors the CRD in
 * `k8s/manifests/crd/symbolnodes.yaml`.
 *
 * Why validate twice: the CRD installed in a cluster may be older than the operator (or installed without its
 * CEL rules), so the operator re-checks every spec before acting on it and reports a precise, human-readable
 * reason in the SymbolNode's conditions instead of rendering a broken StatefulSet. `test/unit/k8s-crd.test.ts`
 * keeps the two in agreement (enums, required fields, defaults, patterns).
 *
 * The parts live in k8s/symbolNode/: api.ts (group, version, names, labels), values.ts (enums, limits, patterns,
 * value checks), podFields.ts (the API server's rules for what is copied into pods), schema.ts (the spec's zod
 * schema), resource.ts (resource types), parse.ts (parseSymbolNode). Importers use this module only.
 *
 * All of it is pure (no Node built-ins; only a type import from the Kubernetes client, erased at build) so
 * workflow code may import it.
 */
export * from './symbolNode/api.js';
export * from './symbolNode/schema.js';
export * from './symbolNode/resource.js';
export * from './symbolNode/parse.js';
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
