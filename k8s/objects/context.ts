/** Inputs of the builders besides the SymbolNode itself. Plain data: no clients, no I/O. */
// Types only: symbol/networkPackage.ts itself uses node:crypto, node:fs and fflate, none of which belong here.
import type { ChecksumAlgorithm, PinnedChecksum } from '../../symbol/networkPackage.js';
import { PATTERNS, type Network, type ParsedSymbolNode } from '../symbolNode.js';
import { BuildError } from './names.js';

/**
 * Where the seed-init container gets the network package (and so the nemesis seed) from. The checksum is the
 * digest of the package zip bytes; a downloaded package always has one (mainnet's release is pinned with
 * SHA3-512 only), a package from a ConfigMap may have one.
 */
export type SeedPackageSource =
  | { kind: 'url'; url: string; checksum: PinnedChecksum }
  | { kind: 'configMap'; name: string; key: string; checksum?: PinnedChecksum };

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

/**
 * Built-in package locations of the public networks, supplied by the operator's configuration
 * (symbol/networkPackage.ts `NETWORK_PACKAGE_PRESETS` has this shape).
 */
export type BuiltInPackages = Partial<Record<Exclude<Network, 'custom'>, { url: string; checksum: PinnedChecksum }>>;

const DIGEST_HEX_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = { sha256: 64, 'sha3-512': 128 };

/**
 * The checksum with its hex digits in lower case. Throws BuildError for an unknown algorithm or a digest that is
 * not exactly the algorithm's number of hex digits (either case).
 */
export function normaliseSeedChecksum(checksum: PinnedChecksum): PinnedChecksum {
  // Built-in packages come from the operator's configuration: check the shape, not only the types.
  if (typeof checksum !== 'object' || checksum === null) throw new BuildError('seed package checksum is missing');
  const algorithm = checksum.algorithm as unknown;
  if (typeof algorithm !== 'string' || !Object.hasOwn(DIGEST_HEX_LENGTH, algorithm)) {
    throw new BuildError(
      `seed package checksum algorithm ${JSON.stringify(algorithm)} is not one of ${Object.keys(DIGEST_HEX_LENGTH).join(', ')}`,
    );
  }
  const length = DIGEST_HEX_LENGTH[checksum.algorithm];
  if (typeof checksum.hex !== 'string' || !new RegExp(`^[0-9a-fA-F]{${length}}$`, 'u').test(checksum.hex)) {
    throw new BuildError(`seed package ${checksum.algorithm} is not ${length} hex digits`);
  }
  return { algorithm: checksum.algorithm, hex: checksum.hex.toLowerCase() };
}

/**
 * spec.networkPackage if set, else the built-in package of the network; checksums in lower case. Throws
 * BuildError if there is none or a built-in checksum is malformed.
 */
export function resolveSeedPackage(node: ParsedSymbolNode, builtIn: BuiltInPackages): SeedPackageSource {
  const pkg = node.spec.networkPackage;
  const userChecksum =
    pkg?.sha256 !== undefined ? normaliseSeedChecksum({ algorithm: 'sha256', hex: pkg.sha256 }) : undefined;
  if (pkg?.url !== undefined && userChecksum !== undefined)
    return { kind: 'url', url: pkg.url, checksum: userChecksum };
  if (pkg?.configMapRef !== undefined) {
    return {
      kind: 'configMap',
      name: pkg.configMapRef.name,
      key: pkg.configMapRef.key,
      ...(userChecksum !== undefined ? { checksum: userChecksum } : {}),
    };
  }
  const network = node.spec.network;
  const known = network === 'custom' ? undefined : builtIn[network];
  if (known === undefined) throw new BuildError(`no network package is known for network "${network}"`);
  return { kind: 'url', url: known.url, checksum: normaliseSeedChecksum(known.checksum) };
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
    // A downloaded package decides which nemesis block the node trusts: never without a checksum.
    normaliseSeedChecksum(s.checksum);
  } else {
    if (!dnsSubdomainRe.test(s.name))
      throw new BuildError(`seed package ConfigMap name ${JSON.stringify(s.name)} is invalid`);
    if (!dataKeyRe.test(s.key)) throw new BuildError(`seed package ConfigMap key ${JSON.stringify(s.key)} is invalid`);
    if (s.checksum !== undefined) normaliseSeedChecksum(s.checksum);
  }
}
