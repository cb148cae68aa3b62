/**
 * Names of the Kubernetes objects that belong to one SymbolNode, derived deterministically from its name, and
 * the length/shape limits they must satisfy.
 *
 * Limits (Kubernetes v1.37):
 * - StatefulSet: a DNS-1123 label, and at most 52 characters because its pods carry the label
 *   `controller-revision-hash=<statefulset name>-<hash>` (hash ≤ 10 characters, label value ≤ 63). This is the
 *   binding limit, so a SymbolNode name has at most 52 characters (see NODE_NAME_MAX_LENGTH).
 * - Pod `<statefulset>-0`: a DNS-1123 label (it is also the pod's host name): ≤ 63.
 * - Service: a DNS-1035 label (must start with a letter): ≤ 63.
 * - ConfigMap, Secret, PersistentVolumeClaim: DNS-1123 subdomains: ≤ 253.
 * - Job (for other modules): its name becomes the label `batch.kubernetes.io/job-name`, so ≤ 63.
 *
 * Collisions between SymbolNodes: every derived name is `<name>` or `<name><suffix>`, and no suffix ends with
 * another suffix, except the Service `<name>` against `<other>-headless`; SymbolNode names ending in
 * `-headless` are therefore rejected (CRD rule and nodeNameProblem()). Callers must still check that an
 * existing object is controlled by the same SymbolNode (owner reference uid) before changing it.
 */
import { HEADLESS_SERVICE_SUFFIX, NODE_NAME_MAX_LENGTH, nodeNameProblem } from '../symbolNode.js';

export class BuildError extends Error {
  override name = 'BuildError';
}

/** A derived name does not fit the rules of its kind; the message says which rule. */
export class InvalidNameError extends BuildError {
  override name = 'InvalidNameError';
}

export type NameRule = 'dns1123Label' | 'dns1035Label' | 'dns1123Subdomain';

const RULES: Record<NameRule, { re: RegExp; max: number; what: string }> = {
  dns1123Label: {
    re: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    what: "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
  },
  dns1035Label: {
    re: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    what: "a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)",
  },
  dns1123Subdomain: {
    re: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    max: 253,
    what: 'a DNS-1123 subdomain',
  },
};

/** Throws InvalidNameError unless `name` satisfies `rule` (and `max`, if stricter than the rule's own limit). */
export function checkName(kind: string, name: string, rule: NameRule, max?: number): string {
  const r = RULES[rule];
  const limit = Math.min(max ?? r.max, r.max);
  if (name.length > limit) {
    throw new InvalidNameError(
      `${kind} name ${JSON.stringify(name)} is ${name.length} characters long; at most ${limit} are allowed`,
    );
  }
  if (!r.re.test(name)) throw new InvalidNameError(`${kind} name ${JSON.stringify(name)} is not ${r.what}`);
  return name;
}

/** `<node name><suffix>`, checked against `rule`: for objects other modules create (Jobs, Leases, ...). */
export function derivedName(nodeName: string, suffix: string, kind: string, rule: NameRule, max?: number): string {
  return checkName(kind, `${nodeName}${suffix}`, rule, max);
}

/** Name of the data volumeClaimTemplate; the PVC is `data-<statefulset>-0`. */
export const DATA_VOLUME = 'data';

export interface SymbolNodeObjectNames {
  statefulSet: string;
  /** The StatefulSet's only pod. */
  pod: string;
  /** ClusterIP Service: peer port (and REST for API roles). */
  service: string;
  /** Headless governing Service of the StatefulSet. */
  headlessService: string;
  /** The PersistentVolumeClaim the StatefulSet creates from the `data` template. */
  dataVolumeClaim: string;
  /** catapult `resources/*.properties` and peer lists. */
  resourcesConfigMap: string;
  /** rest.json (API roles). */
  restConfigMap: string;
  /** MongoDB preparation scripts (API roles). */
  mongoScriptsConfigMap: string;
  /** The five certificate files, mounted at /certificates. */
  certificatesSecret: string;
  /** Main account private key. Never mounted into a pod. */
  identitySecret: string;
  /** config-harvesting.properties (harvester signing and VRF private keys), mounted into the server only. */
  harvestingSecret: string;
}

/**
 * All names for the SymbolNode `nodeName`. Throws InvalidNameError with a precise message when the name
 * cannot work (too long for the StatefulSet's controller-revision-hash label, not a DNS-1035 label, ...).
 */
export function objectNames(nodeName: string): SymbolNodeObjectNames {
  const problem = nodeNameProblem(nodeName);
  if (problem !== undefined) throw new InvalidNameError(`SymbolNode name ${problem}`);
  const statefulSet = checkName('StatefulSet', nodeName, 'dns1123Label', NODE_NAME_MAX_LENGTH);
  return {
    statefulSet,
    pod: checkName('Pod', `${statefulSet}-0`, 'dns1123Label'),
    service: checkName('Service', nodeName, 'dns1035Label'),
    headlessService: checkName('Service', `${nodeName}${HEADLESS_SERVICE_SUFFIX}`, 'dns1035Label'),
    dataVolumeClaim: checkName('PersistentVolumeClaim', `${DATA_VOLUME}-${statefulSet}-0`, 'dns1123Subdomain'),
    resourcesConfigMap: checkName('ConfigMap', `${nodeName}-resources`, 'dns1123Subdomain'),
    restConfigMap: checkName('ConfigMap', `${nodeName}-rest`, 'dns1123Subdomain'),
    mongoScriptsConfigMap: checkName('ConfigMap', `${nodeName}-mongo`, 'dns1123Subdomain'),
    certificatesSecret: checkName('Secret', `${nodeName}-certificates`, 'dns1123Subdomain'),
    identitySecret: checkName('Secret', `${nodeName}-identity`, 'dns1123Subdomain'),
    harvestingSecret: checkName('Secret', `${nodeName}-harvesting`, 'dns1123Subdomain'),
  };
}
