/**
 * Secrets of a SymbolNode. Values go in `data` (base64), not `stringData`: `stringData` is write-only and makes
 * server-side apply report a change on every reconcile.
 *
 * Key material follows `dataRetentionPolicy` (see keyMaterialIsOwned): with Retain these Secrets carry no owner
 * reference and survive the SymbolNode together with the data volume.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { DEFAULT_IDENTITY_SECRET_KEY, type ParsedSymbolNode } from '../symbolNode.js';
import { HARVESTING_FILE } from './configMaps.js';
import { childMetadata, keyMaterialIsOwned, type Component } from './metadata.js';
import { BuildError, objectNames } from './names.js';

/** The files catapult and REST read from /certificates (shoestring's names). */
export const CERTIFICATE_FILES = [
  'ca.pubkey.pem',
  'ca.crt.pem',
  'node.key.pem',
  'node.crt.pem',
  'node.full.crt.pem',
] as const;
export type CertificateFile = (typeof CERTIFICATE_FILES)[number];
export type CertificateFiles = Readonly<Record<CertificateFile, string>>;

function secret(node: ParsedSymbolNode, name: string, component: Component, data: Record<string, string>): V1Secret {
  const encoded = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, Buffer.from(data[k]!, 'utf8').toString('base64')]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: childMetadata(node, name, component, { owned: keyMaterialIsOwned(node) }),
    data: encoded,
  };
}

/** `<name>-certificates`, mounted read-only at /certificates (mode 0400, readable through fsGroup). */
export function buildCertificatesSecret(node: ParsedSymbolNode, files: CertificateFiles): V1Secret {
  const keys = Object.keys(files);
  const missing = CERTIFICATE_FILES.filter((f) => typeof files[f] !== 'string' || files[f].length === 0);
  const extra = keys.filter((k) => !(CERTIFICATE_FILES as readonly string[]).includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new BuildError(
      `the certificates Secret needs exactly ${CERTIFICATE_FILES.join(', ')}` +
        (missing.length > 0 ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length > 0 ? `; unexpected: ${extra.join(', ')}` : ''),
    );
  }
  for (const f of CERTIFICATE_FILES) {
    if (!files[f].includes('-----BEGIN ')) throw new BuildError(`${f} is not PEM`);
  }
  return secret(node, objectNames(node.metadata.name).certificatesSecret, 'certificates', { ...files });
}

/**
 * `<name>-identity`: a generated main account private key (64 hex digits) under the key `privateKey`. Read by
 * the operator only; the StatefulSet never mounts it (a test enforces this).
 */
export function buildIdentitySecret(node: ParsedSymbolNode, privateKeyHex: string): V1Secret {
  if (node.spec.identitySecretRef !== undefined) {
    throw new BuildError(
      `SymbolNode ${node.metadata.name} brings its own identity (${node.spec.identitySecretRef.name})`,
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(privateKeyHex))
    throw new BuildError('the main account private key must be 64 hex digits');
  return secret(node, objectNames(node.metadata.name).identitySecret, 'identity', {
    [DEFAULT_IDENTITY_SECRET_KEY]: privateKeyHex.toUpperCase(),
  });
}

/** `<name>-harvesting`: config-harvesting.properties with the harvester signing and VRF private keys. */
export function buildHarvestingSecret(node: ParsedSymbolNode, harvestingProperties: string): V1Secret {
  if (!node.spec.harvester) throw new BuildError(`SymbolNode ${node.metadata.name} does not harvest`);
  return secret(node, objectNames(node.metadata.name).harvestingSecret, 'harvesting', {
    [HARVESTING_FILE]: harvestingProperties,
  });
}
