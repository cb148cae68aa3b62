import type * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/activity';
import { isNotFound, type KubeClients } from '../k8s/client.js';
import { DEFAULT_PACKAGE_CONFIGMAP_KEY, type SymbolNodeSpec } from '../k8s/symbolNode.js';
import { describeSource, downloadPackage, trustedSourcePolicy } from '../symbol/packageDownload.js';
import {
  isNetworkPresetName,
  loadNetworkPackageFromZip,
  NETWORK_PACKAGE_PRESETS,
  NetworkPackageError,
  readPackageSource,
  verifyChecksum,
  type NetworkPackage,
  type PinnedChecksum,
} from '../symbol/index.js';
import { BoundedCache } from './packageCache.js';

/** The operator's settings for packages it downloads (worker/config.ts reads them from SNO_NETWORK_PACKAGE_*). */
export interface PackageSourceSettings {
  /** Hosts a spec's URL may name (see symbol/packageDownload.ts); presets' official URLs need only be public. */
  readonly allowedHosts: readonly string[];
  readonly allowHttp: boolean;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** Loaded packages and zips together, in bytes. */
  readonly cacheMaxBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_PACKAGE_SOURCE_SETTINGS: PackageSourceSettings = {
  allowedHosts: ['*'],
  allowHttp: false,
  maxBytes: 64 * MiB,
  timeoutMs: 120_000,
  cacheMaxBytes: 128 * MiB,
};

/**
 * Where seed-init should get a preset's package when the operator was configured with its own location for it
 * (`SNO_NETWORK_PACKAGE_<PRESET>`): a mirror URL is handed on (the pods must reach it), a local file is handed
 * over as its verified bytes, for the caller to publish in the node's namespace.
 */
export type OperatorSeedPackage =
  | { kind: 'url'; url: string; checksum: PinnedChecksum }
  | { kind: 'zip'; zip: Uint8Array; checksum: PinnedChecksum; location: string };

/**
 * Loads the network package a node's spec refers to, verified against its pinned checksum, and
 * caches it in memory by source and checksum: a thousand sai nodes share one download.
 */
export class NetworkPackageCache {
  private readonly cache: BoundedCache<NetworkPackage | Uint8Array>;
  private readonly sources: PackageSourceSettings;

  constructor(
    private readonly kube: KubeClients,
    /** Preset name → location (path, file:// or mirror URL); the preset's pin still applies. */
    private readonly presetOverrides: Record<string, string>,
    sources: Partial<PackageSourceSettings> = {},
  ) {
    this.sources = { ...DEFAULT_PACKAGE_SOURCE_SETTINGS, ...sources };
    this.cache = new BoundedCache(this.sources.cacheMaxBytes, sizeOf);
  }

  /** Bytes the cache holds now. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  async load(namespace: string, spec: SymbolNodeSpec): Promise<NetworkPackage> {
    try {
      const source = spec.networkPackage;
      if (source?.configMapRef) {
        // Read on every use: the cache key includes the ConfigMap's resourceVersion, so an edited
        // package is never served stale.
        const configMap = await this.readConfigMap(namespace, source.configMapRef.name);
        const key = `configmap:${configMap.metadata?.uid}@${configMap.metadata?.resourceVersion}/${source.configMapRef.key}@${source.sha256 ?? ''}`;
        const dataKey = source.configMapRef.key ?? DEFAULT_PACKAGE_CONFIGMAP_KEY;
        return await this.cached(key, () =>
          Promise.resolve().then(() => packageFromConfigMap(configMap, dataKey, source.sha256)),
        );
      }
      if (source?.url) {
        const { url, sha256 } = source;
        if (!sha256) throw new NetworkPackageError('InvalidChecksum', `package ${url} has no sha256 to verify it with`);
        return await this.cached(`url:${url}@${sha256}`, async () =>
          loadNetworkPackageFromZip(await downloadPackage(url, this.sources), {
            checksum: { algorithm: 'sha256', hex: sha256 },
            origin: describeSource(url),
            revealActualChecksum: false,
            maxArchiveBytes: this.sources.maxBytes,
          }),
        );
      }
      const network = spec.network;
      if (!isNetworkPresetName(network)) {
        throw new NetworkPackageError('UnknownPreset', `network "${network}" needs spec.networkPackage`);
      }
      const location = this.presetOverrides[network] ?? NETWORK_PACKAGE_PRESETS[network].url;
      return await this.cached(`preset:${network}`, async () =>
        loadNetworkPackageFromZip(await this.readPresetSource(network, location), {
          checksum: NETWORK_PACKAGE_PRESETS[network].checksum,
          origin: `${network} package from ${describeSource(location)}`,
          maxArchiveBytes: this.sources.maxBytes,
        }),
      );
    } catch (error) {
      throw toActivityFailure(error);
    }
  }

  /**
   * The operator's own location of the spec's preset package, when it has one and the spec names no package of
   * its own (the spec's url or ConfigMap is what seed-init uses then); undefined means the preset's official URL.
   */
  async operatorSeedPackage(spec: SymbolNodeSpec): Promise<OperatorSeedPackage | undefined> {
    const network = spec.network;
    if (spec.networkPackage !== undefined || !isNetworkPresetName(network)) return undefined;
    const location = this.presetOverrides[network];
    if (location === undefined) return undefined;
    const { checksum } = NETWORK_PACKAGE_PRESETS[network];
    if (/^https?:\/\//i.test(location)) return { kind: 'url', url: location, checksum };
    try {
      const zip = await this.cachedZip(`zip:${network}@${location}`, async () => {
        const bytes = await this.readPresetSource(network, location);
        verifyChecksum(bytes, checksum, `${network} package from ${location}`);
        return bytes;
      });
      return { kind: 'zip', zip, checksum, location };
    } catch (error) {
      throw toActivityFailure(error);
    }
  }

  /**
   * A preset's official URL is the operator's own constant: it only has to be public (no allowlist). A location
   * the admin configured is trusted as given (a mirror inside the cluster's network is what it is for).
   */
  private readPresetSource(network: string, location: string): Promise<Uint8Array> {
    const limits = { maxBytes: this.sources.maxBytes, timeoutMs: this.sources.timeoutMs };
    if (this.presetOverrides[network] === undefined)
      return downloadPackage(location, { ...limits, allowedHosts: ['*'], allowHttp: false });
    if (/^https?:\/\//i.test(location)) return downloadPackage(location, trustedSourcePolicy(limits));
    return readPackageSource(location);
  }

  private cached(key: string, load: () => Promise<NetworkPackage>): Promise<NetworkPackage> {
    return this.cache.get(`package:${key}`, load) as Promise<NetworkPackage>;
  }

  private cachedZip(key: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    return this.cache.get(key, load) as Promise<Uint8Array>;
  }

  private async readConfigMap(namespace: string, name: string): Promise<k8s.V1ConfigMap> {
    try {
      return await this.kube.core.readNamespacedConfigMap({ namespace, name });
    } catch (error) {
      if (isNotFound(error))
        throw new NetworkPackageError('MissingFile', `network package ConfigMap ${namespace}/${name} does not exist`);
      throw error;
    }
  }
}

function sizeOf(value: NetworkPackage | Uint8Array): number {
  if (value instanceof Uint8Array) return value.byteLength;
  let bytes = 0;
  for (const data of value.files.values()) bytes += data.byteLength;
  return bytes;
}

function packageFromConfigMap(configMap: k8s.V1ConfigMap, key: string, sha256: string | undefined): NetworkPackage {
  const name = `${configMap.metadata?.namespace}/${configMap.metadata?.name}`;
  const data = configMap.binaryData?.[key];
  if (data === undefined)
    throw new NetworkPackageError('MissingFile', `ConfigMap ${name} has no binaryData key ${key}`);
  return loadNetworkPackageFromZip(Buffer.from(data, 'base64'), {
    ...(sha256 ? { checksum: { algorithm: 'sha256' as const, hex: sha256 } } : {}),
    origin: `ConfigMap ${name}`,
  });
}

/** A package that fails verification will fail again: only a spec change helps. Unreachable sources are retried. */
function toActivityFailure(error: unknown): unknown {
  if (error instanceof NetworkPackageError) {
    return ApplicationFailure.create({
      type: 'NetworkPackageError',
      message: error.message,
      details: [error.reason],
      nonRetryable: error.reason !== 'SourceUnavailable',
    });
  }
  return error;
}
