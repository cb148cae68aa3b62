/**
 * Pure builders for the Kubernetes objects of one SymbolNode. Input: a parsed SymbolNode (parseSymbolNode)
 * and plain data; output: typed @kubernetes/client-node objects ready to apply. No API calls, no I/O.
 */
export { configHash, type ConfigFiles } from './configHash.js';
export {
  ANNOTATION_PACKAGE_SHA256,
  buildMongoScriptsConfigMap,
  buildNetworkPackageConfigMap,
  buildResourcesConfigMap,
  buildRestConfigMap,
  CONFIGMAP_MAX_BYTES,
  HARVESTING_FILE,
  NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES,
  NETWORK_PACKAGE_CONFIGMAP_PREFIX,
  networkPackageConfigMapName,
  REST_CONFIG_FILE,
} from './configMaps.js';
export {
  checkBuildContext,
  normaliseSeedChecksum,
  resolveSeedPackage,
  type BuildContext,
  type BuiltInPackages,
  type SeedPackageSource,
} from './context.js';
export * from './layout.js';
export {
  childMetadata,
  commonLabels,
  keyMaterialIsOwned,
  ownerReference,
  selectorLabels,
  type Component,
} from './metadata.js';
export {
  BuildError,
  checkName,
  DATA_VOLUME,
  derivedName,
  InvalidNameError,
  objectNames,
  type NameRule,
  type SymbolNodeObjectNames,
} from './names.js';
export {
  buildCertificatesSecret,
  buildHarvestingSecret,
  buildIdentitySecret,
  CERTIFICATE_FILES,
  type CertificateFile,
  type CertificateFiles,
} from './secrets.js';
export { buildHeadlessService, buildService } from './services.js';
export { buildStatefulSet } from './statefulSet.js';
export {
  ANNOTATION_RECOVERY_REASON,
  ANNOTATION_RECOVERY_RUN_ID,
  ANNOTATION_RECOVERY_WORKFLOW_ID,
  buildRecoveryJob,
  recoveryJobName,
  recoveryJobOwner,
  recoveryOwnerHash,
  RECOVERY_JOB_DEADLINE_SECONDS,
  type RecoveryJobOptions,
  type RecoveryJobOwner,
} from './recoveryJob.js';
