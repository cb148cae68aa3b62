/** Typed errors of network package handling: `reason` becomes the SymbolNode condition's reason. */
export type NetworkPackageErrorReason =
  | 'ChecksumMismatch'
  | 'InvalidChecksum'
  | 'InvalidArchive'
  | 'UnsafePath'
  | 'MissingFile'
  | 'InvalidShoestringIni'
  | 'UnknownPreset'
  | 'SourceUnavailable'
  | 'SourceRefused'
  | 'TooLarge';

export class NetworkPackageError extends Error {
  override readonly name = 'NetworkPackageError';

  constructor(
    readonly reason: NetworkPackageErrorReason,
    message: string,
  ) {
    super(`${reason}: ${message}`);
  }
}
