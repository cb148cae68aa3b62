import type * as k8s from '@kubernetes/client-node';
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
  type CertificateSet,
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

/** The main account key of a node that brings its own identity: the user's Secret, read only. */
async function userMainKey(
  kube: KubeClients,
  namespace: string,
  ref: { name: string; key: string },
): Promise<PrivateKeySecret> {
  const secret = await readSecret(kube, namespace, ref.name);
  if (!secret) throw identityError('IdentitySecretNotFound', `identity Secret ${ref.name} does not exist`);
  const value = secretValue(secret, ref.key);
  if (value === undefined)
    throw identityError('IdentityKeyMissing', `identity Secret ${ref.name} has no key ${ref.key}`);
  return parsePrivateKey(value, `identity Secret ${ref.name} key ${ref.key}`);
}

function storedMainKey(secret: k8s.V1Secret): PrivateKeySecret {
  const name = secret.metadata?.name ?? 'identity Secret';
  const value = secretValue(secret, 'privateKey');
  if (value === undefined) throw identityError('IdentityKeyMissing', `identity Secret ${name} has no key privateKey`);
  return parsePrivateKey(value, `identity Secret ${name}`);
}

function secretFiles(secret: k8s.V1Secret | undefined): Partial<Record<string, string>> {
  return Object.fromEntries(Object.keys(secret?.data ?? {}).map((k) => [k, secretValue(secret, k)]));
}

function certificateSetFor(
  node: ParsedSymbolNode,
  mainKey: PrivateKeySecret,
  nodeKey: PrivateKeySecret,
): Promise<CertificateSet> {
  return createCertificateSet({
    mainKey,
    nodeKey,
    friendlyName: node.spec.friendlyName ?? node.metadata.name,
    host: node.spec.hostName,
  });
}

function certificatesSecretOf(node: ParsedSymbolNode, set: CertificateSet): k8s.V1Secret {
  return buildCertificatesSecret(
    node,
    Object.fromEntries(certificateDirectoryFiles(set)) as unknown as CertificateFiles,
  );
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
  const { namespace } = node.metadata;
  let mainKey: PrivateKeySecret;
  let stored: k8s.V1Secret | undefined;
  let usable: { nodeKey: PrivateKeySecret; notAfter: Date } | undefined;
  const ref = node.spec.identitySecretRef;
  if (ref) {
    [mainKey, stored] = await Promise.all([
      userMainKey(kube, namespace, ref),
      readSecret(kube, namespace, names.certificatesSecret),
    ]);
  } else {
    // Create first, both Secrets at once, from keys made here: a new node needs one round trip. An existing
    // node answers 409 twice and its stored keys are read back and kept; the keys made here are then dropped.
    const candidateMainKey = PrivateKeySecret.generate();
    const candidate = await certificateSetFor(node, candidateMainKey, PrivateKeySecret.generate());
    const [identity, certificates] = await Promise.all([
      createSecretOnce(kube, buildIdentitySecret(node, candidateMainKey.revealHex())),
      createSecretOnce(kube, certificatesSecretOf(node, candidate)),
    ]);
    mainKey = storedMainKey(identity);
    stored = certificates;
    const ours =
      mainKey.publicKey === candidateMainKey.publicKey &&
      secretValue(certificates, 'node.full.crt.pem') === candidate.nodeFullCertificatePem;
    if (ours)
      usable = { nodeKey: candidate.nodeKey, notAfter: (await readCertificate(candidate.nodeCertificatePem)).notAfter };
  }
  const storedFiles = secretFiles(stored);
  usable ??= await usableCertificates(storedFiles, mainKey);
  if (!usable) {
    // Keep an existing node key: a new one would orphan the node's delegated harvesters.
    const previousNodeKey = storedFiles['node.key.pem'];
    const nodeKey = previousNodeKey ? parsePrivateKey(previousNodeKey, 'node.key.pem') : PrivateKeySecret.generate();
    const set = await certificateSetFor(node, mainKey, nodeKey);
    const secret = certificatesSecretOf(node, set);
    if (stored) await applyObject(kube, secret);
    else usable = await usableCertificates(secretFiles(await createSecretOnce(kube, secret)), mainKey);
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
