import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../k8s/client.js';
import { DEFAULT_PACKAGE_CONFIGMAP_KEY, type SymbolNodeSpec } from '../k8s/symbolNode.js';
import {
  isNetworkPresetName,
  loadNetworkPackageFromZip,
  loadPresetNetworkPackage,
  NetworkPackageError,
  readPackageSource,
  type NetworkPackage,
} from '../symbol/index.js';

/**
 * Loads the network package a node's spec refers to, verified against its pinned checksum, and
 * caches it in memory by source and checksum: a thousand sai nodes share one download.
 */
export class NetworkPackageCache {
  private readonly cache = new Map<string, Promise<NetworkPackage>>();

  constructor(
    private readonly kube: KubeClients,
    /** Preset name → location (path, file:// or mirror URL); the preset's pin still applies. */
    private readonly presetOverrides: Record<string, string>,
  ) {}

  load(namespace: string, spec: SymbolNodeSpec): Promise<NetworkPackage> {
    const source = spec.networkPackage;
    const key = source?.configMapRef
      ? `configmap:${namespace}/${source.configMapRef.name}/${source.configMapRef.key}@${source.sha256 ?? ''}`
      : source?.url
        ? `url:${source.url}@${source.sha256 ?? ''}`
        : `preset:${spec.network}`;
    let loading = this.cache.get(key);
    if (!loading) {
      loading = this.fetch(namespace, spec);
      this.cache.set(key, loading);
      // A failed load (network blip, bad checksum) must not be remembered.
      loading.catch(() => this.cache.delete(key));
    }
    return loading.catch((error: unknown) => {
      throw toActivityFailure(error);
    });
  }

  private async fetch(namespace: string, spec: SymbolNodeSpec): Promise<NetworkPackage> {
    const source = spec.networkPackage;
    const pinned = source?.sha256 ? { algorithm: 'sha256' as const, hex: source.sha256 } : undefined;
    if (source?.configMapRef) {
      const configMap = await this.kube.core.readNamespacedConfigMap({ namespace, name: source.configMapRef.name });
      const key = source.configMapRef.key ?? DEFAULT_PACKAGE_CONFIGMAP_KEY;
      const data = configMap.binaryData?.[key];
      if (data === undefined) {
        throw new NetworkPackageError(
          'MissingFile',
          `ConfigMap ${source.configMapRef.name} has no binaryData key ${key}`,
        );
      }
      return loadNetworkPackageFromZip(Buffer.from(data, 'base64'), {
        ...(pinned ? { checksum: pinned } : {}),
        origin: `ConfigMap ${namespace}/${source.configMapRef.name}`,
      });
    }
    if (source?.url) {
      if (!pinned)
        throw new NetworkPackageError('InvalidChecksum', `package ${source.url} has no sha256 to verify it with`);
      return loadNetworkPackageFromZip(await readPackageSource(source.url), { checksum: pinned, origin: source.url });
    }
    if (!isNetworkPresetName(spec.network)) {
      throw new NetworkPackageError('UnknownPreset', `network "${spec.network}" needs spec.networkPackage`);
    }
    const location = this.presetOverrides[spec.network];
    return loadPresetNetworkPackage(spec.network, location ? { location } : {});
  }
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
