/**
 * A minimal tar reader (ustar with its name prefix, PAX and GNU long names): enough for `git archive` tarballs
 * and OCI image layers, without a dependency. Whole archives are read into memory: the ones read here (the
 * catapult source, ~20 MB, and image layers) are small next to the machine.
 */
import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);
const BLOCK = 512;

export interface TarEntry {
  /** Path as stored, without a trailing slash for directories. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode: number;
  uid: number;
  gid: number;
  /** Link target for symlinks and hard links. */
  linkTarget?: string;
  /** File content (empty for other types). */
  body: Buffer;
}

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(block: Buffer, offset: number, length: number): number {
  const raw = block.subarray(offset, offset + length);
  // GNU base-256 for values too big for octal: high bit of the first byte set
  if ((raw[0]! & 0x80) !== 0) {
    let value = raw[0]! & 0x7f;
    for (let i = 1; i < raw.length; i++) value = value * 256 + raw[i]!;
    return value;
  }
  const text = field(block, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(body.subarray(at, space).toString('ascii'), 10);
    if (!Number.isInteger(length) || length <= 0) throw new TarFormatError('malformed PAX record length');
    const record = body.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return records;
}

function checksumOk(block: Buffer): boolean {
  const stored = octal(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** Parses an uncompressed tar archive. */
export function parseTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (at + BLOCK <= archive.length) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    if (!checksumOk(header)) throw new TarFormatError(`bad tar header checksum at byte ${at}`);
    const typeflag = String.fromCharCode(header[156]!);
    const size = octal(header, 124, 12);
    const bodyStart = at + BLOCK;
    if (bodyStart + size > archive.length) throw new TarFormatError('tar archive is truncated');
    const body = archive.subarray(bodyStart, bodyStart + size);
    at = bodyStart + Math.ceil(size / BLOCK) * BLOCK;

    if (typeflag === 'x') {
      pax = parsePax(body);
      continue;
    }
    if (typeflag === 'g') continue; // global PAX header: `git archive` stores the commit id there
    if (typeflag === 'L') {
      longName = field(body, 0, body.length);
      continue;
    }
    if (typeflag === 'K') {
      longLink = field(body, 0, body.length);
      continue;
    }

    const magic = field(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? field(header, 345, 155) : '';
    const storedName = field(header, 0, 100);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${storedName}` : storedName);
    const linkTarget = pax.linkpath ?? longLink ?? field(header, 157, 100);
    pax = {};
    longName = undefined;
    longLink = undefined;

    const common = {
      path: name.replace(/\/+$/, ''),
      mode: octal(header, 100, 8) & 0o7777,
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
    };
    if (typeflag === '0' || typeflag === '\0' || typeflag === '7') {
      entries.push({ ...common, type: 'file', body: Buffer.from(body) });
    } else if (typeflag === '5') {
      entries.push({ ...common, type: 'dir', body: Buffer.alloc(0) });
    } else if (typeflag === '2') {
      entries.push({ ...common, type: 'symlink', linkTarget, body: Buffer.alloc(0) });
    } else if (typeflag === '1') {
      entries.push({ ...common, type: 'hardlink', linkTarget, body: Buffer.alloc(0) });
    } else {
      throw new TarFormatError(`unsupported tar entry type ${JSON.stringify(typeflag)} for ${name}`);
    }
  }
  return entries;
}

export async function gunzipBuffer(compressed: Buffer): Promise<Buffer> {
  return gunzipAsync(compressed);
}

export async function readTarGz(file: string): Promise<TarEntry[]> {
  return parseTar(await gunzipBuffer(await readFile(file)));
}
