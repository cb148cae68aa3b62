/**
 * Network packages in shoestring's format: `shoestring.ini`, `resources/*.properties`, `seed/`, `rest/`, `mongo/`.
 *
 * A package is held in memory as relative path -> bytes (the sai package is ~50 KB, mainnet ~7 MB), so nothing is
 * extracted to disk and no zip entry can escape a target directory. Packages that come from the network are only
 * accepted after their bytes match a pinned checksum: the package decides which nemesis block the node trusts.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';

import { NetworkPackageError } from './packageError.js';
import {
  digestHex,
  isNetworkPresetName,
  NETWORK_PACKAGE_PRESETS,
  verifyChecksum,
  type PinnedChecksum,
} from './packagePresets.js';
import { PropertiesDocument } from './properties.js';
import { parseShoestringIni, type ShoestringIni } from './shoestringIni.js';

export * from './packageError.js';
export * from './packagePresets.js';
export * from './shoestringIni.js';

// The mainnet package is ~7 MB; these bounds only stop runaway downloads and zip bombs.
export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;
const MAX_EXTRACTED_BYTES = 256 * 1024 * 1024;
const MAX_FILES = 10_000;

/** A loaded, validated package. Paths are relative, `/`-separated, without the zip's top-level directory. */
export class NetworkPackage {
  readonly shoestring: ShoestringIni;

  constructor(
    readonly files: ReadonlyMap<string, Uint8Array>,
    /** Where the package came from, for messages. */
    readonly origin: string,
    /** sha256 of the zip bytes when loaded from a zip (also for unpinned zips, so callers can record it). */
    readonly zipSha256?: string,
  ) {
    for (const path of files.keys()) assertSafeRelativePath(path, origin);
    this.shoestring = parseShoestringIni(this.text('shoestring.ini'), `${origin}: shoestring.ini`);
    if (!this.list('seed/').length)
      throw new NetworkPackageError('MissingFile', `${origin}: package has no seed/ (nemesis) files`);
    if (!this.list('resources/').some((path) => path.endsWith('.properties'))) {
      throw new NetworkPackageError('MissingFile', `${origin}: package has no resources/*.properties`);
    }
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  bytes(path: string): Uint8Array {
    const data = this.files.get(path);
    if (!data) throw new NetworkPackageError('MissingFile', `${this.origin}: package has no ${path}`);
    return data;
  }

  text(path: string): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(path));
  }

  /** A fresh parse on every call, so edits by one caller never leak into another's output. */
  properties(path: string): PropertiesDocument {
    return PropertiesDocument.parse(this.text(path), path);
  }

  /** Sorted paths under a directory prefix such as `seed/`. */
  list(prefix: string): string[] {
    return [...this.files.keys()].filter((path) => path.startsWith(prefix)).sort();
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f]/;

function assertSafeRelativePath(path: string, origin: string): void {
  const segments = path.split('/');
  const unsafe =
    path === '' ||
    path.includes('\\') ||
    CONTROL_CHARACTER.test(path) ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  if (unsafe) throw new NetworkPackageError('UnsafePath', `${origin}: refusing package entry ${JSON.stringify(path)}`);
}

/** GitHub branch zips wrap everything in one `<repo>-<branch>/` directory; shoestring strips it, so do we. */
function stripWrapperDirectory(entries: Map<string, Uint8Array>, origin: string): Map<string, Uint8Array> {
  const paths = [...entries.keys()];
  if (paths.some((path) => path === 'shoestring.ini' || path.startsWith('seed/'))) return entries;
  const tops = new Set(paths.map((path) => path.split('/')[0]));
  const [top] = tops;
  if (tops.size === 1 && top !== undefined && paths.every((path) => path.startsWith(`${top}/`))) {
    return new Map(paths.map((path) => [path.slice(top.length + 1), entries.get(path)!]));
  }
  throw new NetworkPackageError(
    'MissingFile',
    `${origin}: no shoestring.ini or seed/ at the root or under a single top-level directory`,
  );
}

export interface LoadZipOptions {
  /** When given, the zip bytes must match it (throws `ChecksumMismatch`). */
  readonly checksum?: PinnedChecksum;
  readonly origin?: string;
  /** False for bytes from a spec's URL (see {@link verifyChecksum}). */
  readonly revealActualChecksum?: boolean;
  /** Default 64 MiB. */
  readonly maxArchiveBytes?: number;
}

export function loadNetworkPackageFromZip(zip: Uint8Array, options: LoadZipOptions = {}): NetworkPackage {
  const origin = options.origin ?? 'network package zip';
  const limit = options.maxArchiveBytes ?? MAX_ARCHIVE_BYTES;
  if (zip.byteLength > limit)
    throw new NetworkPackageError('TooLarge', `${origin} is ${zip.byteLength} bytes, limit ${limit}`);
  if (options.checksum) verifyChecksum(zip, options.checksum, origin, options.revealActualChecksum ?? true);

  let declaredTotal = 0;
  let count = 0;
  let raw: Record<string, Uint8Array>;
  try {
    raw = unzipSync(zip, {
      filter: (file) => {
        if (file.name.endsWith('/')) return false;
        count += 1;
        declaredTotal += file.originalSize;
        if (count > MAX_FILES || declaredTotal > MAX_EXTRACTED_BYTES) {
          throw new NetworkPackageError(
            'TooLarge',
            `${origin} expands beyond ${MAX_FILES} files or ${MAX_EXTRACTED_BYTES} bytes`,
          );
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof NetworkPackageError) throw error;
    throw new NetworkPackageError('InvalidArchive', `${origin} is not a readable zip (${(error as Error).message})`);
  }
  const entries = new Map(Object.entries(raw));
  for (const path of entries.keys()) assertSafeRelativePath(path, origin);
  return new NetworkPackage(stripWrapperDirectory(entries, origin), origin, digestHex(zip, 'sha256'));
}

/**
 * Loads an unpacked package (e.g. shared/networks/sai). There are no zip bytes to verify, so this is for
 * development and tests; production paths should use a pinned zip. Names starting with `..` are skipped so a
 * Kubernetes ConfigMap mount (`..data/` plus symlinks) reads as a plain directory.
 */
export async function loadNetworkPackageFromDirectory(directory: string): Promise<NetworkPackage> {
  const root = await realpath(directory).catch(() => {
    throw new NetworkPackageError('SourceUnavailable', `${directory} does not exist`);
  });
  const base = resolve(directory);
  const files = new Map<string, Uint8Array>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      if (name.startsWith('..')) continue;
      const path = join(dir, name);
      const target = await realpath(path);
      const inside = relative(root, target);
      if (inside.startsWith('..') || isAbsolute(inside)) {
        throw new NetworkPackageError('UnsafePath', `${path} resolves outside ${directory}`);
      }
      const info = await stat(target);
      if (info.isDirectory()) {
        await walk(path);
      } else if (info.isFile()) {
        total += info.size;
        if (files.size >= MAX_FILES || total > MAX_EXTRACTED_BYTES) {
          throw new NetworkPackageError(
            'TooLarge',
            `${directory} holds more than ${MAX_FILES} files or ${MAX_EXTRACTED_BYTES} bytes`,
          );
        }
        files.set(relative(base, path).split(sep).join('/'), new Uint8Array(await readFile(target)));
      }
    }
  };
  await walk(base);
  return new NetworkPackage(files, directory);
}

async function readLimited(response: Response, location: string): Promise<Uint8Array> {
  // without a trustworthy content-length, stop reading as soon as the limit is passed
  const chunks: Uint8Array[] = [];
  let size = 0;
  // leaving the loop by throwing cancels the stream
  for await (const value of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += value.byteLength;
    if (size > MAX_ARCHIVE_BYTES)
      throw new NetworkPackageError('TooLarge', `${location} is over ${MAX_ARCHIVE_BYTES} bytes`);
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export interface ReadSourceOptions {
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** Reads zip bytes from `file://` URLs, plain paths, or http(s) URLs, with a size limit. */
export async function readPackageSource(location: string, options: ReadSourceOptions = {}): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(location)) {
    const fetchImpl = options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetchImpl(location, {
        redirect: 'follow',
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new NetworkPackageError('SourceUnavailable', `GET ${location} failed: ${(error as Error).message}`);
    }
    if (!response.ok)
      throw new NetworkPackageError('SourceUnavailable', `GET ${location} answered HTTP ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_ARCHIVE_BYTES)
      throw new NetworkPackageError('TooLarge', `${location} is ${declared} bytes, limit ${MAX_ARCHIVE_BYTES}`);
    try {
      return await readLimited(response, location);
    } catch (error) {
      if (error instanceof NetworkPackageError) throw error;
      throw new NetworkPackageError('SourceUnavailable', `GET ${location} broke off: ${(error as Error).message}`);
    }
  }
  let path: string;
  try {
    path = /^file:/i.test(location) ? fileURLToPath(location) : resolve(location);
  } catch (error) {
    throw new NetworkPackageError(
      'SourceUnavailable',
      `${location} is not a usable file URL (${(error as Error).message})`,
    );
  }
  try {
    const info = await stat(path);
    if (info.size > MAX_ARCHIVE_BYTES)
      throw new NetworkPackageError('TooLarge', `${path} is ${info.size} bytes, limit ${MAX_ARCHIVE_BYTES}`);
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if (error instanceof NetworkPackageError) throw error;
    throw new NetworkPackageError('SourceUnavailable', `cannot read ${path}: ${(error as Error).message}`);
  }
}

export interface LoadPresetOptions extends ReadSourceOptions {
  /**
   * Where to read the preset's zip from instead of its official URL (a mirror, a `file://` URL or a local path,
   * for tests and air-gapped clusters). The pinned checksum is still enforced.
   */
  readonly location?: string;
}

export async function loadPresetNetworkPackage(
  preset: string,
  options: LoadPresetOptions = {},
): Promise<NetworkPackage> {
  if (!isNetworkPresetName(preset)) {
    throw new NetworkPackageError(
      'UnknownPreset',
      `no network package preset "${preset}" (known: ${Object.keys(NETWORK_PACKAGE_PRESETS).join(', ')})`,
    );
  }
  const { url, checksum } = NETWORK_PACKAGE_PRESETS[preset];
  const location = options.location ?? url;
  const zip = await readPackageSource(location, options);
  return loadNetworkPackageFromZip(zip, { checksum, origin: `${preset} package from ${location}` });
}
