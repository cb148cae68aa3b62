/**
 * Unpacks an image archive written by oci.ts (OCI layout + docker manifest.json) into a root filesystem
 * directory, layer by layer, with owners and modes: what a container runtime would mount. Used to check the
 * images the stack builds for real (chroot into them) without a container engine.
 */
import { lstat, mkdir, readFile, symlink, writeFile, chmod, chown } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipBuffer, parseTar, type TarEntry } from './tarReader.js';

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

export class ImageUnpackError extends Error {
  override name = 'ImageUnpackError';
}

function safePath(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new ImageUnpackError(`unsafe path in an image layer: ${path}`);
  if (parts.some((part) => part.startsWith('.wh.'))) {
    throw new ImageUnpackError(`whiteout ${path}: layers that delete files are not supported here`);
  }
  return parts.join('/');
}

/** Refuses to write through a symlink: an absolute link in the image must never reach the host. */
async function assertNoSymlinkParent(root: string, relative: string): Promise<void> {
  const parts = relative.split('/');
  for (let i = 1; i < parts.length; i++) {
    const info = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (info?.isSymbolicLink()) throw new ImageUnpackError(`image entry ${relative} lies under a symlink`);
  }
}

async function applyEntry(root: string, entry: TarEntry): Promise<void> {
  const relative = safePath(entry.path);
  await assertNoSymlinkParent(root, relative);
  const target = join(root, relative);
  // chown/chmod/writeFile follow symlinks: a later layer must not replace one with a file or directory here
  if ((await lstat(target).catch(() => undefined))?.isSymbolicLink()) {
    throw new ImageUnpackError(`image entry ${relative} would write through a symlink`);
  }
  await mkdir(dirname(target), { recursive: true });
  if (entry.type === 'dir') {
    await mkdir(target, { recursive: true });
  } else if (entry.type === 'file') {
    await writeFile(target, entry.body);
  } else if (entry.type === 'symlink') {
    await symlink(entry.linkTarget ?? '', target);
    return;
  } else {
    throw new ImageUnpackError(`hard link ${entry.path}: not supported here`);
  }
  await chown(target, entry.uid, entry.gid);
  await chmod(target, entry.mode);
}

/** Unpacks every layer of `archive` into `root` (which should be empty) and returns the image config. */
export async function unpackImageArchive(archive: string, root: string): Promise<ImageConfig> {
  const outer = new Map(parseTar(await readFile(archive)).map((entry) => [entry.path, entry]));
  const manifestEntry = outer.get('manifest.json');
  if (!manifestEntry) throw new ImageUnpackError(`${archive} has no manifest.json`);
  const [manifest] = JSON.parse(manifestEntry.body.toString('utf8')) as { Config: string; Layers: string[] }[];
  if (!manifest) throw new ImageUnpackError(`${archive}: manifest.json lists no image`);
  const blob = (path: string): Buffer => {
    const entry = outer.get(path);
    if (!entry) throw new ImageUnpackError(`${archive} lacks ${path}`);
    return entry.body;
  };
  await mkdir(root, { recursive: true });
  for (const layer of manifest.Layers) {
    for (const entry of parseTar(await gunzipBuffer(blob(layer)))) await applyEntry(root, entry);
  }
  const config = JSON.parse(blob(manifest.Config).toString('utf8')) as { config?: ImageConfig };
  return config.config ?? {};
}
