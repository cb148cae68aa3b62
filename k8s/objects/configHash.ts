import { createHash } from 'node:crypto';

/** File name → content. Use prefixes such as `resources/`, `certificates/` to hash several groups at once. */
export type ConfigFiles = Readonly<Record<string, string | Uint8Array>>;

/**
 * SHA-256 (hex) over the files sorted by name. Each name and content is length-prefixed, so moving bytes
 * between a name and a content, or between files, always changes the hash. The pod template carries it in the
 * `symbol.nodeoperator.io/config-hash` annotation: any change to mounted configuration or certificates rolls
 * the pod (catapult reads both only at start).
 */
export function configHash(files: ConfigFiles): string {
  const hash = createHash('sha256');
  hash.update('symbol-node-operator/config-hash/v1\n');
  const names = Object.keys(files).sort();
  for (const name of names) {
    const content = files[name]!;
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const nameBytes = Buffer.from(name, 'utf8');
    hash.update(`${nameBytes.length}:`).update(nameBytes).update(`\n${bytes.length}:`).update(bytes).update('\n');
  }
  return hash.digest('hex');
}
