/** Inputs of the builders besides the SymbolNode itself. Plain data: no clients, no I/O. */
import { PATTERNS, type Network, type ParsedSymbolNode } from '../symbolNode.js';
import { BuildError } from './names.js';

/** Where the seed-init container gets the network package (and so the nemesis seed) from. */
export type SeedPackageSource =
  { kind: 'url'; url: string; sha256: string } | { kind: 'configMap'; name: string; key: string; sha256?: string };

export interface BuildContext {
  /** The operator's own image: it runs the seed-init program. */
  operatorImage: string;
  /** {@link configHash} of everything mounted into the pod (resources, rest.json, mongo scripts, certificates,
   *  harvesting properties). */
  configHash: string;
  seedPackage: SeedPackageSource;
  /**
   * Add `restartPolicyRules: RestartAllContainers` for non-zero exits of catapult.server and catapult.broker
   * (Kubernetes ≥ 1.36, beta features ContainerRestartRules + RestartAllContainersOnContainerExits; needs
   * kubelets that declare the feature). The whole pod then restarts in place, init containers included, so a
   * crash that left a lock file runs `recovery` instead of crash-looping. Off by default: older API servers
   * reject `restartPolicy` on regular containers. Without it, the operator must delete the pod.
   */
  restartAllContainersOnCrash?: boolean;
}

/** Built-in package locations of the public networks, supplied by the operator's configuration. */
export type BuiltInPackages = Partial<Record<Exclude<Network, 'custom'>, { url: string; sha256: string }>>;

/** spec.networkPackage if set, else the built-in package of the network. Throws BuildError if there is none. */
export function resolveSeedPackage(node: ParsedSymbolNode, builtIn: BuiltInPackages): SeedPackageSource {
  const pkg = node.spec.networkPackage;
  if (pkg?.url !== undefined && pkg.sha256 !== undefined) return { kind: 'url', url: pkg.url, sha256: pkg.sha256 };
  if (pkg?.configMapRef !== undefined) {
    return {
      kind: 'configMap',
      name: pkg.configMapRef.name,
      key: pkg.configMapRef.key,
      ...(pkg.sha256 !== undefined ? { sha256: pkg.sha256 } : {}),
    };
  }
  const network = node.spec.network;
  const known = network === 'custom' ? undefined : builtIn[network];
  if (known === undefined) throw new BuildError(`no network package is known for network "${network}"`);
  return { kind: 'url', url: known.url, sha256: known.sha256 };
}

const imageRe = new RegExp(PATTERNS.image, 'u');
const sha256Re = new RegExp(PATTERNS.sha256, 'u');
const urlRe = new RegExp(PATTERNS.url, 'u');
const dataKeyRe = new RegExp(PATTERNS.dataKey, 'u');
const dnsSubdomainRe = new RegExp(PATTERNS.dnsSubdomain, 'u');

/** Throws BuildError when the context is malformed (a programming or configuration error). */
export function checkBuildContext(ctx: BuildContext): void {
  if (!imageRe.test(ctx.operatorImage)) {
    throw new BuildError(
      `operatorImage ${JSON.stringify(ctx.operatorImage)} is not an image reference with a tag or digest`,
    );
  }
  if (!sha256Re.test(ctx.configHash)) {
    throw new BuildError(
      `configHash ${JSON.stringify(ctx.configHash)} is not a lower-case hex SHA-256 (use configHash())`,
    );
  }
  const s = ctx.seedPackage;
  if (s.kind === 'url') {
    if (!urlRe.test(s.url)) throw new BuildError(`seed package url ${JSON.stringify(s.url)} is not an http(s) URL`);
    if (!sha256Re.test(s.sha256)) throw new BuildError('seed package sha256 is not a lower-case hex SHA-256');
  } else {
    if (!dnsSubdomainRe.test(s.name))
      throw new BuildError(`seed package ConfigMap name ${JSON.stringify(s.name)} is invalid`);
    if (!dataKeyRe.test(s.key)) throw new BuildError(`seed package ConfigMap key ${JSON.stringify(s.key)} is invalid`);
    if (s.sha256 !== undefined && !sha256Re.test(s.sha256)) {
      throw new BuildError('seed package sha256 is not a lower-case hex SHA-256');
    }
  }
}
