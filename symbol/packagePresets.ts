/**
 * Where the presets' packages come from and how a package's bytes are pinned: a digest of the zip exactly as
 * downloaded, compared before anything in it is used.
 */
import { createHash } from 'node:crypto';

import { NetworkPackageError } from './packageError.js';

export type ChecksumAlgorithm = 'sha256' | 'sha3-512';

/** Hex digest of the package zip bytes, exactly as downloaded. */
export interface PinnedChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly hex: string;
}

export type NetworkPresetName = 'mainnet' | 'sai';

export interface NetworkPackagePreset {
  readonly name: NetworkPresetName;
  readonly url: string;
  readonly checksum: PinnedChecksum;
}

/**
 * Official package locations, as resolved by shoestring 0.2.3 (`internal/PackageResolver.py`).
 *
 * mainnet: shoestring asks the GitHub releases API for the first `client/catapult*` release with an asset named
 * `configuration-mainnet*` and pins a SHA3-512 only for `client/catapult/v1.0.3.9`; we pin that release directly
 * (the asset file name `configuration-mainnet.zip` is inferred from the testnet asset of earlier releases).
 * sai: the zip GitHub generates for branch `sai` of symbol/networks; shoestring pins nothing, we pin the sha256 of
 * the copy in shared/networks/sai.zip. GitHub regenerates branch zips, so a moved branch (or a re-zip) makes the
 * download fail verification on purpose: re-pin after reviewing the new package.
 */
export const NETWORK_PACKAGE_PRESETS: Readonly<Record<NetworkPresetName, NetworkPackagePreset>> = {
  mainnet: {
    name: 'mainnet',
    url: 'https://github.com/symbol/symbol/releases/download/client%2Fcatapult%2Fv1.0.3.9/configuration-mainnet.zip',
    checksum: {
      algorithm: 'sha3-512',
      hex:
        '895AB5284768278BEBBEB8F40D3F15D20F78B464E705BA9AFCA444248F3C4EF2' +
        '335DEC40A5CCABFE18E6E9BBB9EA36EC495F10A77CBEDE6F30A29DEB621F97F2',
    },
  },
  sai: {
    name: 'sai',
    url: 'https://github.com/symbol/networks/archive/refs/heads/sai.zip',
    checksum: { algorithm: 'sha256', hex: '14eab7252624d3afb712d1738f3e55a5c1e9a3a973e80fe2f709268b839d0938' },
  },
};

const DIGEST_HEX_LENGTH: Record<ChecksumAlgorithm, number> = { sha256: 64, 'sha3-512': 128 };

export function digestHex(bytes: Uint8Array, algorithm: ChecksumAlgorithm): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

/**
 * Throws `ChecksumMismatch` unless the digest of `bytes` equals the pinned one (hex case is ignored). The actual
 * digest is named unless `revealActual` is false: for bytes fetched from an address a spec chose, it would tell
 * whoever wrote the spec something about a response they may not be able to read themselves.
 */
export function verifyChecksum(
  bytes: Uint8Array,
  pinned: PinnedChecksum,
  source = 'network package',
  revealActual = true,
): void {
  const expected = pinned.hex.toLowerCase();
  if (!/^[0-9a-f]+$/.test(expected) || expected.length !== DIGEST_HEX_LENGTH[pinned.algorithm]) {
    throw new NetworkPackageError(
      'InvalidChecksum',
      `pinned ${pinned.algorithm} for ${source} is not ${DIGEST_HEX_LENGTH[pinned.algorithm]} hex digits`,
    );
  }
  const actual = digestHex(bytes, pinned.algorithm);
  if (actual !== expected) {
    throw new NetworkPackageError(
      'ChecksumMismatch',
      revealActual
        ? `${pinned.algorithm} of ${source} is ${actual}, expected ${expected}`
        : `${pinned.algorithm} of ${source} is not the expected ${expected}`,
    );
  }
}

export function isNetworkPresetName(name: string): name is NetworkPresetName {
  return Object.hasOwn(NETWORK_PACKAGE_PRESETS, name);
}
