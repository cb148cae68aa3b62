import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeOciArchive } from '../image/oci.js';
import { paths, stackSourceDir } from '../versions.js';

const run = promisify(execFile);

export interface CachedImage {
  /** name:tag as containerd lists it after the import */
  reference: string;
  /** an OCI archive for `ctr images import` */
  archive: string;
}

const source = join(stackSourceDir, 'images', 'pause.c');
const gccFlags = ['-static', '-O2', '-s', '-Wall', '-Wextra', '-Werror'];

/**
 * The real node's sandbox image, built here (no registry to pull registry.k8s.io/pause from): the
 * static pause.c binary alone in one layer. Cached by the hash of its source and flags.
 */
export async function ensurePauseImage(): Promise<CachedImage> {
  const hash = createHash('sha256')
    .update(await readFile(source))
    .update(gccFlags.join(' '))
    .digest('hex')
    .slice(0, 16);
  const dir = join(paths.imageCacheDir, `pause-${hash}`);
  const manifest = join(dir, 'image.json');
  if (existsSync(manifest)) return JSON.parse(await readFile(manifest, 'utf8')) as CachedImage;

  const scratch = `${dir}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    const binary = join(scratch, 'pause');
    await run('gcc', [...gccFlags, '-o', binary, source]).catch((error: { stderr?: string; message: string }) => {
      throw new Error(
        `compiling ${source} failed (gcc with a static libc is needed): ${error.stderr ?? error.message}`,
      );
    });
    const written = await writeOciArchive(
      {
        name: 'localhost/symbol-node-operator/pause',
        layers: [[{ path: 'pause', mode: 0o755, source: binary }]],
        config: { Entrypoint: ['/pause'], User: '65535:65535' },
      },
      join(scratch, 'image.tar'),
    );
    const image: CachedImage = { reference: written.reference, archive: join(dir, 'image.tar') };
    await writeFile(join(scratch, 'image.json'), JSON.stringify(image));
    await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
    return image;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
