import type * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/activity';
import type { KubeClients } from '../k8s/client.js';
import { buildHarvestingSecret, HARVESTING_FILE, objectNames } from '../k8s/objects/index.js';
import type { ParsedSymbolNode } from '../k8s/symbolNode.js';
import { harvestingKeysFromProperties, KeyError, PrivateKeySecret, type HarvestingKeys } from '../symbol/keys.js';
import { applyObject, createSecretOnce, readSecret, secretValue } from './apply.js';

/**
 * A harvesting Secret the operator cannot read its keys from. Never repaired by replacing the keys: delegated
 * harvesting is bound to them, and a Secret someone edited by mistake can still be put back as it was. Permanent for
 * this spec; a person fixes (or deletes) the Secret and the lifecycle tries again.
 */
function invalidHarvestingKey(secretName: string, problem: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'IdentityError',
    message: `harvesting Secret ${secretName}: ${problem}; fix it or delete it (a new Secret means new harvesting keys)`,
    details: ['InvalidHarvestingKey'],
    nonRetryable: true,
  });
}

/** The node's harvesting keys and the Secret they were read from (undefined: none yet, the keys are new). */
export interface NodeHarvestingKeys extends HarvestingKeys {
  readonly stored: k8s.V1Secret | undefined;
}

function keysOf(secret: k8s.V1Secret, name: string): HarvestingKeys {
  const text = secretValue(secret, HARVESTING_FILE);
  if (text === undefined) throw invalidHarvestingKey(name, `it has no key ${HARVESTING_FILE}`);
  try {
    return harvestingKeysFromProperties(text);
  } catch (error) {
    if (error instanceof KeyError) throw invalidHarvestingKey(name, error.message);
    throw error;
  }
}

/** The stored harvesting keys, or new ones when the node has no harvesting Secret yet. */
export async function harvestingKeysFor(kube: KubeClients, node: ParsedSymbolNode): Promise<NodeHarvestingKeys> {
  const name = objectNames(node.metadata.name).harvestingSecret;
  const stored = await readSecret(kube, node.metadata.namespace, name);
  if (!stored) return { signingKey: PrivateKeySecret.generate(), vrfKey: PrivateKeySecret.generate(), stored };
  return { ...keysOf(stored, name), stored };
}

const sameKeys = (a: HarvestingKeys, b: HarvestingKeys): boolean =>
  a.signingKey.equals(b.signingKey) && a.vrfKey.equals(b.vrfKey);

/**
 * Stores `config-harvesting.properties`, rendered with `keys`. New keys are created once (the first of two racing
 * runs wins; the other fails and is retried, then reads the winner's keys). A stored Secret is only updated (other
 * harvesting settings, labels, owner) if it still is the version the keys were read from.
 */
export async function storeHarvestingSecret(
  kube: KubeClients,
  node: ParsedSymbolNode,
  keys: NodeHarvestingKeys,
  properties: string,
): Promise<void> {
  const secret = buildHarvestingSecret(node, properties);
  const name = secret.metadata!.name!;
  if (!keys.stored) {
    const stored = await createSecretOnce(kube, secret);
    if (!sameKeys(keysOf(stored, name), keys)) {
      throw ApplicationFailure.retryable(
        `harvesting Secret ${name} was created by another run meanwhile; the configuration is rendered again with its keys`,
        'HarvestingSecretRace',
      );
    }
    return;
  }
  // Applied every time, as the other objects are (labels and owner follow the spec, e.g. dataRetentionPolicy); the
  // resourceVersion makes it conditional: a Secret changed since its keys were read answers 409, and the retried
  // activity reads it again (and refuses it if it no longer holds valid keys).
  const resourceVersion = keys.stored.metadata?.resourceVersion;
  await applyObject(kube, { ...secret, metadata: { ...secret.metadata, resourceVersion } });
}
