import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../k8s/client.js';
import {
  buildCertificatesSecret,
  buildIdentitySecret,
  objectNames,
  type CertificateFiles,
} from '../k8s/objects/index.js';
import type { ParsedSymbolNode } from '../k8s/symbolNode.js';
import {
  addressOf,
  CertificateError,
  certificateDirectoryFiles,
  createCertificateSet,
  PrivateKeySecret,
  readCertificate,
  verifyCatapultChain,
} from '../symbol/index.js';
import { applyObject, createSecretOnce, readSecret, secretValue } from './apply.js';
import type { NodeIdentity } from './types.js';

type IdentityProblem = 'IdentitySecretNotFound' | 'IdentityKeyMissing' | 'InvalidIdentityKey';

function identityError(reason: IdentityProblem, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'IdentityError', message, details: [reason], nonRetryable: true });
}

function parsePrivateKey(text: string, where: string): PrivateKeySecret {
  const trimmed = text.trim();
  try {
    return trimmed.includes('-----BEGIN') ? PrivateKeySecret.fromPem(trimmed) : PrivateKeySecret.fromHex(trimmed);
  } catch {
    throw identityError(
      'InvalidIdentityKey',
      `${where} is neither 64 hex digits nor an Ed25519 PKCS#8 PEM private key`,
    );
  }
}

/** The main account key: the user's Secret if the spec names one, else one generated once and kept. */
async function mainAccountKey(kube: KubeClients, node: ParsedSymbolNode): Promise<PrivateKeySecret> {
  const { namespace } = node.metadata;
  const ref = node.spec.identitySecretRef;
  if (ref) {
    const secret = await readSecret(kube, namespace, ref.name);
    if (!secret) throw identityError('IdentitySecretNotFound', `identity Secret ${ref.name} does not exist`);
    const value = secretValue(secret, ref.key);
    if (value === undefined)
      throw identityError('IdentityKeyMissing', `identity Secret ${ref.name} has no key ${ref.key}`);
    return parsePrivateKey(value, `identity Secret ${ref.name} key ${ref.key}`);
  }
  const name = objectNames(node.metadata.name).identitySecret;
  // Create first: a new node needs one call; an existing one answers 409 and is read back unchanged.
  const stored = await createSecretOnce(kube, buildIdentitySecret(node, PrivateKeySecret.generate().revealHex()));
  const value = secretValue(stored, 'privateKey');
  if (value === undefined) throw identityError('IdentityKeyMissing', `identity Secret ${name} has no key privateKey`);
  return parsePrivateKey(value, `identity Secret ${name}`);
}

/** The stored certificates if they still form a valid chain for this main key, else undefined. */
async function usableCertificates(
  files: Partial<Record<string, string>>,
  mainKey: PrivateKeySecret,
): Promise<{ nodeKey: PrivateKeySecret; notAfter: Date } | undefined> {
  const full = files['node.full.crt.pem'];
  const keyPem = files['node.key.pem'];
  if (!full || !keyPem || !files['ca.crt.pem'] || !files['node.crt.pem'] || !files['ca.pubkey.pem']) return undefined;
  try {
    const nodeKey = PrivateKeySecret.fromPem(keyPem);
    await verifyCatapultChain(full, {
      expectedCaPublicKey: mainKey.publicKey,
      expectedNodePublicKey: nodeKey.publicKey,
    });
    return { nodeKey, notAfter: (await readCertificate(files['node.crt.pem'])).notAfter };
  } catch (error) {
    if (error instanceof CertificateError) return undefined;
    throw error;
  }
}

/**
 * Makes sure the node has its key material: main account key and the node's TLS certificates
 * (CA signed by the main key, node certificate, node key). Keys are generated once and then only
 * read, so retries, restarts and pod deletion never change the node's identity. Returns public
 * data and Secret names only.
 */
export async function ensureNodeIdentityFor(kube: KubeClients, node: ParsedSymbolNode): Promise<NodeIdentity> {
  const names = objectNames(node.metadata.name);
  const [mainKey, stored] = await Promise.all([
    mainAccountKey(kube, node),
    readSecret(kube, node.metadata.namespace, names.certificatesSecret),
  ]);
  const storedFiles = Object.fromEntries(Object.keys(stored?.data ?? {}).map((k) => [k, secretValue(stored, k)]));
  let usable = await usableCertificates(storedFiles, mainKey);
  if (!usable) {
    // Keep an existing node key: a new one would orphan the node's delegated harvesters.
    const previousNodeKey = storedFiles['node.key.pem'];
    const nodeKey = previousNodeKey ? parsePrivateKey(previousNodeKey, 'node.key.pem') : PrivateKeySecret.generate();
    const set = await createCertificateSet({
      mainKey,
      nodeKey,
      friendlyName: node.spec.friendlyName ?? node.metadata.name,
      host: node.spec.hostName,
    });
    const files = Object.fromEntries(certificateDirectoryFiles(set)) as unknown as CertificateFiles;
    const secret = buildCertificatesSecret(node, files);
    if (stored) await applyObject(kube, secret);
    else {
      const winner = await createSecretOnce(kube, secret);
      const winnerFiles = Object.fromEntries(Object.keys(winner.data ?? {}).map((k) => [k, secretValue(winner, k)]));
      usable = await usableCertificates(winnerFiles, mainKey);
    }
    usable ??= { nodeKey, notAfter: (await readCertificate(set.nodeCertificatePem)).notAfter };
  }
  const network = node.spec.network === 'mainnet' ? 'mainnet' : 'testnet';
  return {
    mainPublicKey: mainKey.publicKey,
    nodePublicKey: usable.nodeKey.publicKey,
    address: addressOf(mainKey.publicKey, network),
    identitySecret: node.spec.identitySecretRef?.name ?? names.identitySecret,
    certificatesSecret: names.certificatesSecret,
    nodeCertificateNotAfter: usable.notAfter.toISOString(),
  };
}
