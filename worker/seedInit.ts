/**
 * seed-init: the first init container of every SymbolNode pod (k8s/objects/statefulSet.ts builds its arguments;
 * the image runs `node /app/dist/worker/seedInit.js`).
 *
 * catapult imports the nemesis seed from `seedDirectory` only while `<data>/index.dat` is missing (facts §3, §7), so:
 *  1. `<data-dir>/index.dat` exists → nothing to do (the chain was imported; the seed is never read again);
 *  2. otherwise read the network package zip (a mounted ConfigMap key or an http(s) URL), verify its checksum before
 *     anything else looks at it, and put its `seed/` tree at `--seed-dir`: written into a sibling temporary
 *     directory, then renamed into place, so the seed directory is either absent, the old one or the complete new
 *     one — never partly written. An identical seed directory is left alone.
 *
 * Usage:
 *   seedInit --seed-dir DIR --data-dir DIR (--package-url URL --package-checksum ALG:HEX |
 *            --package-file PATH [--package-checksum ALG:HEX]) [--network NAME]
 * ALG is sha256 (64 hex digits) or sha3-512 (128), the digest of the zip bytes.
 * Exit codes: 0 done (skipped, written or unchanged), 1 failure, 2 bad arguments. Errors are one line on stderr.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  loadNetworkPackageFromZip,
  readPackageSource,
  verifyChecksum,
  type ChecksumAlgorithm,
  type PinnedChecksum,
} from '../symbol/networkPackage.js';

export type SeedPackageLocation =
  /** http(s) only; a downloaded package is always verified. */
  | { readonly url: string; readonly checksum: PinnedChecksum }
  /** A local file, e.g. a ConfigMap key mounted at /package/<key>. */
  | { readonly file: string; readonly checksum?: PinnedChecksum };

export interface InitialiseSeedOptions {
  readonly package: SeedPackageLocation;
  /** Where catapult reads the seed (`seedDirectory`); replaced as a whole. Its parent must exist. */
  readonly seedDir: string;
  /** catapult's data directory; only `<dataDir>/index.dat` is looked at. */
  readonly dataDir: string;
  /** The SymbolNode's spec.network, for log lines only (the sai package calls itself "testnet"). */
  readonly network?: string;
  /** One line per call. Defaults to stdout. */
  readonly log?: (line: string) => void;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export type SeedInitResult = 'skipped' | 'written' | 'unchanged';

export class SeedInitError extends Error {
  override readonly name = 'SeedInitError';
}

const HEX_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = { sha256: 64, 'sha3-512': 128 };
const SEED_PREFIX = 'seed/';

/** Parses `<algorithm>:<hex>` (hex in either case) into a checksum with lower-case hex. */
export function parseChecksumArgument(text: string): PinnedChecksum {
  const colon = text.indexOf(':');
  const algorithm = colon < 0 ? '' : text.slice(0, colon);
  const hex = text.slice(colon + 1);
  if (!Object.hasOwn(HEX_LENGTH, algorithm)) {
    throw new SeedInitError(
      `--package-checksum must be <algorithm>:<hex> with algorithm ${Object.keys(HEX_LENGTH).join(' or ')}`,
    );
  }
  const length = HEX_LENGTH[algorithm as ChecksumAlgorithm];
  if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(hex)) {
    throw new SeedInitError(`--package-checksum ${algorithm} digest must be ${length} hex digits`);
  }
  return { algorithm: algorithm as ChecksumAlgorithm, hex: hex.toLowerCase() };
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'package-url': { type: 'string' },
        'package-file': { type: 'string' },
        'package-checksum': { type: 'string' },
        network: { type: 'string' },
        'seed-dir': { type: 'string' },
        'data-dir': { type: 'string' },
      },
    }).values;
  } catch (error) {
    // e.g. "Unknown option '--package-sha256'", "Option '--seed-dir <value>' argument missing"
    throw new SeedInitError((error as Error).message);
  }
}

/** The CLI arguments as {@link initialiseSeed} options. Throws SeedInitError (exit code 2) when they are unusable. */
export function parseSeedInitArgs(argv: readonly string[]): InitialiseSeedOptions {
  const values = parseOptions(argv);
  const seedDir = values['seed-dir'];
  const dataDir = values['data-dir'];
  if (!seedDir || !dataDir) throw new SeedInitError('--seed-dir and --data-dir are required');
  if (resolve(seedDir) === resolve(dataDir)) throw new SeedInitError('--seed-dir and --data-dir must differ');
  if (dirname(resolve(seedDir)) === resolve(seedDir)) throw new SeedInitError('--seed-dir cannot be a root');
  const url = values['package-url'];
  const file = values['package-file'];
  if ((url === undefined) === (file === undefined)) {
    throw new SeedInitError('give exactly one of --package-url or --package-file');
  }
  const checksumText = values['package-checksum'];
  const checksum = checksumText !== undefined ? parseChecksumArgument(checksumText) : undefined;
  let location: SeedPackageLocation;
  if (url !== undefined) {
    if (!/^https?:\/\//i.test(url)) throw new SeedInitError('--package-url must be an http(s) URL');
    if (checksum === undefined) throw new SeedInitError('--package-url needs --package-checksum');
    location = { url, checksum };
  } else {
    if (!file) throw new SeedInitError('--package-file must not be empty');
    location = checksum !== undefined ? { file, checksum } : { file };
  }
  return {
    package: location,
    seedDir,
    dataDir,
    ...(values.network !== undefined ? { network: values.network } : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * True when `dir` holds exactly `files` (relative `/`-separated path → bytes): the same regular files with the
 * same bytes, nothing else but the directories leading to them. Anything unexpected (a symlink, an extra file,
 * `dir` being a file) counts as different.
 */
async function holdsExactly(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<boolean> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return false;
  let seen = 0;
  const walk = async (absolute: string, relativePath: string): Promise<boolean> => {
    for (const entry of await readdir(absolute, { withFileTypes: true })) {
      const path = relativePath === '' ? entry.name : `${relativePath}/${entry.name}`;
      const full = join(absolute, entry.name);
      if (entry.isDirectory()) {
        if (!(await walk(full, path))) return false;
      } else if (entry.isFile()) {
        const expected = files.get(path);
        if (expected === undefined || !Buffer.from(await readFile(full)).equals(expected)) return false;
        seen += 1;
      } else {
        return false;
      }
    }
    return true;
  };
  return (await walk(dir, '')) && seen === files.size;
}

async function writeTree(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await mkdir(dir, { mode: 0o755 });
  for (const [path, bytes] of files) {
    const target = join(dir, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, bytes, { flag: 'wx', mode: 0o644 });
  }
}

/** Temporary siblings are named `.<seed-dir name>.seed-init-<kind>-<random>` and removed by any later run. */
function siblingPrefix(seedDir: string): string {
  return `.${basename(seedDir)}.seed-init-`;
}

async function removeLeftovers(seedDir: string): Promise<void> {
  const parent = dirname(seedDir);
  const prefix = siblingPrefix(seedDir);
  for (const name of await readdir(parent)) {
    if (name.startsWith(prefix)) await rm(join(parent, name), { recursive: true, force: true });
  }
}

function sibling(seedDir: string, kind: 'tmp' | 'old'): string {
  return join(dirname(seedDir), `${siblingPrefix(seedDir)}${kind}-${randomBytes(6).toString('hex')}`);
}

/**
 * Puts the package's seed at `options.seedDir` unless catapult's data directory is already initialised. The
 * checksum (when there is one; always for URLs) is verified before the package is unzipped.
 *
 * Resolves `skipped` when `<dataDir>/index.dat` exists, `unchanged` when the seed directory already holds exactly
 * the package's seed, `written` otherwise. Rejects with the package module's NetworkPackageError (ChecksumMismatch
 * names the expected and the actual digest, SourceUnavailable, InvalidArchive, …) or a file system error; the seed
 * directory is then as it was, and no temporary directory is left behind.
 */
export async function initialiseSeed(options: InitialiseSeedOptions): Promise<SeedInitResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const seedDir = resolve(options.seedDir);
  const indexFile = join(resolve(options.dataDir), 'index.dat');
  if (await exists(indexFile)) {
    log('seed-init: data directory already initialised; seed not needed');
    return 'skipped';
  }

  const source = options.package;
  let zip: Uint8Array;
  let origin: string;
  if ('url' in source) {
    if (!/^https?:\/\//i.test(source.url)) throw new SeedInitError('package URL must be http(s)');
    origin = source.url;
    zip = await readPackageSource(source.url, {
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  } else {
    // An absolute path is never taken for a URL by readPackageSource.
    origin = resolve(source.file);
    zip = await readPackageSource(origin);
  }
  if (source.checksum !== undefined) verifyChecksum(zip, source.checksum, `network package ${origin}`);
  const pkg = loadNetworkPackageFromZip(zip, { origin: `network package ${origin}` });
  const seed = new Map(pkg.list(SEED_PREFIX).map((path) => [path.slice(SEED_PREFIX.length), pkg.bytes(path)]));

  await mkdir(dirname(seedDir), { recursive: true });
  await removeLeftovers(seedDir);
  const described = `${seed.size} seed files of network package ${origin}${
    options.network !== undefined ? ` (network ${options.network})` : ''
  }${source.checksum !== undefined ? `, ${source.checksum.algorithm} verified` : ', not pinned'}`;
  if (await holdsExactly(seedDir, seed)) {
    log(`seed-init: ${seedDir} already holds the ${described}`);
    return 'unchanged';
  }

  const temporary = sibling(seedDir, 'tmp');
  try {
    await writeTree(temporary, seed);
    if (await exists(seedDir)) {
      // rename() cannot replace a non-empty directory: move the old one aside first. Nothing depends on it yet
      // (no index.dat), and a crash between the renames leaves no seed directory, which the next run writes.
      const old = sibling(seedDir, 'old');
      await rename(seedDir, old);
      try {
        await rename(temporary, seedDir);
      } catch (error) {
        await rename(old, seedDir).catch(() => undefined);
        throw error;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temporary, seedDir);
    }
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  log(`seed-init: wrote the ${described} to ${seedDir}`);
  return 'written';
}

/** One line, whatever the error: container logs are read line by line. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The CLI: exit code 2 for bad arguments, 1 for any other failure. */
export async function main(argv: readonly string[]): Promise<number> {
  let options: InitialiseSeedOptions;
  try {
    options = parseSeedInitArgs(argv);
  } catch (error) {
    console.error(`seed-init: bad arguments: ${oneLine(error)}`);
    return 2;
  }
  try {
    await initialiseSeed(options);
    return 0;
  } catch (error) {
    console.error(`seed-init: ${oneLine(error)}`);
    return 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
