/**
 * Symbol account keys for a node (main, node, remote, vrf), built on symbol-sdk v3.
 *
 * Private keys only ever leave this module as `PrivateKeySecret`: every implicit conversion (string templates,
 * JSON, util.inspect/console.log, Temporal's JSON payloads) yields `[redacted]`, so a stray log line or a workflow
 * argument cannot leak one. Getting the key material needs an explicit `reveal*()`/`toPem()` call, which is easy to
 * grep for and belongs only where a Kubernetes Secret or a signature is produced.
 */
import { timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { Hash256, PrivateKey, PublicKey } from 'symbol-sdk';
import { type Address, KeyPair, Network } from 'symbol-sdk/symbol';

import type { ShoestringNetwork } from './networkPackage.js';
import { PropertiesDocument, PropertiesError } from './properties.js';

export const REDACTED = '[redacted]';

/** What each account is for (symbol-facts §1, §2). */
export type KeyRole = 'main' | 'node' | 'remote' | 'vrf';
export const KEY_ROLES: readonly KeyRole[] = ['main', 'node', 'remote', 'vrf'];

// DER of PKCS#8 v1 / SPKI for Ed25519 (RFC 8410) differ from key to key only in the trailing 32 bytes.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function pemBody(pem: string, label: string): Buffer {
  const match = new RegExp(
    `^-----BEGIN ${label}-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+?)\\r?\\n?-----END ${label}-----\\s*$`,
  ).exec(pem.trim());
  if (!match) throw new KeyError(`not a single PEM "${label}" block`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

function toPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** An Ed25519 private key that refuses to be printed. */
export class PrivateKeySecret {
  readonly #bytes: Uint8Array;
  /** Uppercase hex public key; safe to log. */
  readonly publicKey: string;

  private constructor(bytes: Uint8Array) {
    if (bytes.length !== 32) throw new KeyError(`private key must be 32 bytes, got ${bytes.length}`);
    this.#bytes = Uint8Array.from(bytes);
    this.publicKey = new KeyPair(new PrivateKey(this.#bytes)).publicKey.toString();
  }

  static generate(): PrivateKeySecret {
    return new PrivateKeySecret(PrivateKey.random().bytes);
  }

  static fromBytes(bytes: Uint8Array): PrivateKeySecret {
    return new PrivateKeySecret(bytes);
  }

  /** 64 hex digits, as in `config-harvesting.properties`. */
  static fromHex(hex: string): PrivateKeySecret {
    if (!/^[0-9A-Fa-f]{64}$/.test(hex)) throw new KeyError('private key hex must be 64 hex digits');
    return new PrivateKeySecret(Buffer.from(hex, 'hex'));
  }

  /** Unencrypted PKCS#8 `PRIVATE KEY` PEM for Ed25519, as written by `openssl genpkey -algorithm ed25519`. */
  static fromPem(pem: string): PrivateKeySecret {
    const der = pemBody(pem, 'PRIVATE KEY');
    if (
      der.length !== PKCS8_ED25519_PREFIX.length + 32 ||
      !der.subarray(0, PKCS8_ED25519_PREFIX.length).equals(PKCS8_ED25519_PREFIX)
    ) {
      throw new KeyError('PEM is not an unencrypted PKCS#8 Ed25519 private key');
    }
    return new PrivateKeySecret(der.subarray(PKCS8_ED25519_PREFIX.length));
  }

  revealHex(): string {
    return toHex(this.#bytes);
  }

  revealBytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  /** PKCS#8 DER, the form WebCrypto's importKey('pkcs8') takes. */
  toPkcs8Der(): Uint8Array {
    return Uint8Array.from(Buffer.concat([PKCS8_ED25519_PREFIX, this.#bytes]));
  }

  /** PKCS#8 PEM, byte-identical to what openssl writes; catapult reads `node.key.pem` in this form. */
  toPem(): string {
    return toPem(this.toPkcs8Der(), 'PRIVATE KEY');
  }

  /** The symbol-sdk key pair, for signing transactions. */
  revealKeyPair(): KeyPair {
    return new KeyPair(new PrivateKey(this.#bytes));
  }

  equals(other: PrivateKeySecret): boolean {
    return timingSafeEqual(this.#bytes, other.#bytes);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** `'mainnet'`, `'testnet'` (= sai, the public test network), or a network read from a package's shoestring.ini. */
export type NetworkLike = 'mainnet' | 'testnet' | 'sai' | ShoestringNetwork;

export function symbolNetwork(network: NetworkLike): Network {
  if (network === 'mainnet') return Network.MAINNET;
  // symbol-sdk's TESTNET is sai: identifier 152, epoch 2022-10-31T21:07:47Z, seed 49D6E1CE…
  if (network === 'testnet' || network === 'sai') return Network.TESTNET;
  return new Network(
    network.name,
    network.identifier,
    new Date(network.epochAdjustment * 1000),
    new Hash256(network.generationHashSeed),
  );
}

/** Base32 account address (e.g. `T…` on testnet, `N…` on mainnet) of a public key. */
export function addressOf(publicKeyHex: string, network: NetworkLike): string {
  if (!/^[0-9A-Fa-f]{64}$/.test(publicKeyHex)) throw new KeyError('public key hex must be 64 hex digits');
  // symbol-sdk types the address generically (any); it is a symbol Address
  const address = symbolNetwork(network).publicKeyToAddress(new PublicKey(publicKeyHex)) as Address;
  return address.toString();
}

/** SPKI `PUBLIC KEY` PEM, the form of shoestring's `ca.pubkey.pem`. */
export function publicKeyToPem(publicKeyHex: string): string {
  if (!/^[0-9A-Fa-f]{64}$/.test(publicKeyHex)) throw new KeyError('public key hex must be 64 hex digits');
  return toPem(Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(publicKeyHex, 'hex')]), 'PUBLIC KEY');
}

/** Raw Ed25519 public key (uppercase hex) from SubjectPublicKeyInfo DER; throws for any other key type. */
export function publicKeyFromSpkiDer(spki: Uint8Array): string {
  const der = Buffer.from(spki);
  if (
    der.length !== SPKI_ED25519_PREFIX.length + 32 ||
    !der.subarray(0, SPKI_ED25519_PREFIX.length).equals(SPKI_ED25519_PREFIX)
  ) {
    throw new KeyError('not an Ed25519 SubjectPublicKeyInfo');
  }
  return toHex(der.subarray(SPKI_ED25519_PREFIX.length));
}

export function publicKeyFromPem(pem: string): string {
  return publicKeyFromSpkiDer(pemBody(pem, 'PUBLIC KEY'));
}

export interface NodeAccount {
  readonly role: KeyRole;
  readonly privateKey: PrivateKeySecret;
  readonly publicKey: string;
  readonly address: string;
}

export function describeAccount(role: KeyRole, privateKey: PrivateKeySecret, network: NetworkLike): NodeAccount {
  return { role, privateKey, publicKey: privateKey.publicKey, address: addressOf(privateKey.publicKey, network) };
}

/** Fresh random keys for the requested roles (all four by default). */
export function generateNodeAccounts(network: NetworkLike): Record<KeyRole, NodeAccount>;
export function generateNodeAccounts<R extends KeyRole>(
  network: NetworkLike,
  roles: readonly R[],
): Record<R, NodeAccount>;
export function generateNodeAccounts(
  network: NetworkLike,
  roles: readonly KeyRole[] = KEY_ROLES,
): Partial<Record<KeyRole, NodeAccount>> {
  const accounts: Partial<Record<KeyRole, NodeAccount>> = {};
  for (const role of roles) accounts[role] = describeAccount(role, PrivateKeySecret.generate(), network);
  return accounts;
}

/** The two private keys a harvester's `config-harvesting.properties` holds. */
export interface HarvestingKeys {
  /** Remote account key (`harvesterSigningPrivateKey`). */
  readonly signingKey: PrivateKeySecret;
  readonly vrfKey: PrivateKeySecret;
}

const HARVESTING_KEY_NAMES = { signingKey: 'harvesterSigningPrivateKey', vrfKey: 'harvesterVrfPrivateKey' } as const;

/**
 * Reads the harvesting keys back from a stored `config-harvesting.properties`. Anything short of both keys as 64 hex
 * digits is a `KeyError` that says which key and what is wrong with it, and never quotes the text: it may hold the
 * other key, or this one slightly mistyped.
 */
export function harvestingKeysFromProperties(text: string): HarvestingKeys {
  let document: PropertiesDocument;
  try {
    document = PropertiesDocument.parse(text, 'config-harvesting.properties');
  } catch (error) {
    if (error instanceof PropertiesError)
      throw new KeyError(`config-harvesting.properties is not a readable properties file (${error.reason})`);
    throw error;
  }
  const read = (role: keyof typeof HARVESTING_KEY_NAMES): PrivateKeySecret => {
    const name = HARVESTING_KEY_NAMES[role];
    const value = document.get('harvesting', name);
    if (!value) throw new KeyError(`config-harvesting.properties has no [harvesting] ${name}`);
    if (!/^[0-9A-Fa-f]{64}$/.test(value))
      throw new KeyError(`[harvesting] ${name} in config-harvesting.properties is not 64 hex digits`);
    return PrivateKeySecret.fromHex(value);
  };
  return { signingKey: read('signingKey'), vrfKey: read('vrfKey') };
}
