/**
 * The catapult source: the unmodified `client/catapult` folder of symbol/symbol at tag client/catapult/v1.0.3.8,
 * laid beside the checkout (`../shared/catapult/`, also in CI) because machines here reach package registries
 * only. It is never copied into this repository (LGPL v3): it is unpacked into a scratch directory at build time.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { stackSourceDir } from '../versions.js';
import { readTarGz } from '../image/tarReader.js';

export const CATAPULT_VERSION = 'v1.0.3.8';
/** sha256 of `git archive --prefix=catapult/` at commit 2483aa092813ed73713e1cc4990afc6c81588d3b. */
export const CATAPULT_TARBALL_SHA256 = 'dd4998643eb3b00f5335e83768e209a8d37b2457b77d4a7bcb5a9fbf40b4ead0';
/** Every path in the tarball starts with this folder. */
export const CATAPULT_TARBALL_PREFIX = 'catapult/';

export class CatapultSourceError extends Error {
  override name = 'CatapultSourceError';
}

/** `SNO_CATAPULT_TARBALL`, else `../shared/catapult/catapult-<version>.tar.gz` beside the checkout. */
export function catapultTarballPath(): string {
  return (
    process.env.SNO_CATAPULT_TARBALL ??
    resolve(stackSourceDir, '..', '..', 'shared', 'catapult', `catapult-${CATAPULT_VERSION}.tar.gz`)
  );
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Returns the tarball path after checking it is the pinned one. */
export async function verifiedCatapultTarball(): Promise<string> {
  const tarball = catapultTarballPath();
  if (!existsSync(tarball)) {
    throw new CatapultSourceError(
      `the catapult ${CATAPULT_VERSION} source tarball is missing: expected ${tarball} (set SNO_CATAPULT_TARBALL to its path)`,
    );
  }
  const actual = await sha256File(tarball);
  if (actual !== CATAPULT_TARBALL_SHA256) {
    throw new CatapultSourceError(
      `${tarball} has sha256 ${actual}, expected ${CATAPULT_TARBALL_SHA256} (catapult ${CATAPULT_VERSION})`,
    );
  }
  return tarball;
}

function safeRelative(path: string): string {
  if (!path.startsWith(CATAPULT_TARBALL_PREFIX) && path !== CATAPULT_TARBALL_PREFIX.slice(0, -1)) {
    throw new CatapultSourceError(`unexpected path outside ${CATAPULT_TARBALL_PREFIX} in the tarball: ${path}`);
  }
  const rest = path.slice(CATAPULT_TARBALL_PREFIX.length);
  if (isAbsolute(rest) || rest.split('/').includes('..')) {
    throw new CatapultSourceError(`unsafe path in the tarball: ${path}`);
  }
  return rest;
}

/**
 * Unpacks the tarball's `catapult/` folder into `destination` (which becomes the catapult source root).
 * Symlinks are made last, so no file is ever written through one.
 */
export async function unpackCatapultSource(tarball: string, destination: string): Promise<number> {
  const entries = await readTarGz(tarball);
  const links: { path: string; target: string }[] = [];
  await mkdir(destination, { recursive: true });
  let files = 0;
  for (const entry of entries) {
    const relative = safeRelative(entry.type === 'dir' ? `${entry.path}/` : entry.path);
    const target = join(destination, relative);
    if (entry.type === 'dir') {
      await mkdir(target, { recursive: true });
    } else if (entry.type === 'file') {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, entry.body);
      await chmod(target, entry.mode & 0o111 ? 0o755 : 0o644);
      files++;
    } else if (entry.type === 'symlink') {
      links.push({ path: target, target: entry.linkTarget ?? '' });
    } else {
      throw new CatapultSourceError(`unexpected hard link in the catapult tarball: ${entry.path}`);
    }
  }
  for (const link of links) {
    await mkdir(dirname(link.path), { recursive: true });
    await symlink(link.target, link.path);
  }
  return files;
}
