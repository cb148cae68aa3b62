/**
 * The catapult server image (`localhost/catapult-server:<content tag>`) in the layout node pods expect
 * (k8s/objects/layout.ts, Symbol's own images): catapult.server and catapult.recovery in /usr/catapult/bin; extensions and plugins in /usr/catapult/lib (config-user.properties pluginsDirectory);
 * third-party libraries in /usr/catapult/deps (the pod sets LD_LIBRARY_PATH to both); glibc, libstdc++,
 * libgcc_s and the loader at their standard paths; a static busybox as /bin/sh and the few commands the pod's
 * start scripts use; user and group 1000 (`catapult`); an empty /tmp. No package manager, nothing else.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeOciArchive, type ImageEntry, type ImageSpec, type WrittenImage } from '../image/oci.js';
import { paths, stackSourceDir } from '../versions.js';
import { CATAPULT_EXECUTABLES, CATAPULT_LIBRARIES, ensureCatapultBuild, type CatapultBuild } from './build.js';
import { withLock } from '../processes.js';
import { resolveRuntimeLibraries, systemImagePath, usrMergedPath, type RuntimeLibrary } from './runtimeLibraries.js';
import { CATAPULT_VERSION, sha256File } from './source.js';

export const CATAPULT_IMAGE_NAME = 'localhost/catapult-server';
export const CATAPULT_IMAGE_ROOT = '/usr/catapult';
export const CATAPULT_IMAGE_LD_LIBRARY_PATH = '/usr/catapult/lib:/usr/catapult/deps';
/** What the pod's scripts call (layout.ts: sh, rm, echo; cat/ls/sleep for someone debugging with exec). */
export const BUSYBOX_COMMANDS = ['sh', 'rm', 'echo', 'cat', 'ls', 'sleep'] as const;
const BUSYBOX_HOST_PATHS = ['/usr/bin/busybox', '/bin/busybox'];
const CATAPULT_UID = 1000;

export class CatapultImageError extends Error {
  override name = 'CatapultImageError';
}

export const catapultImagePaths = {
  dir: join(paths.cacheRoot, 'images'),
  lock: join(paths.cacheRoot, 'images', 'catapult-server.lock'),
};

function staticBusybox(): string {
  const path = BUSYBOX_HOST_PATHS.find((candidate) => existsSync(candidate));
  if (!path) throw new CatapultImageError('no /bin/busybox: install Debian package busybox-static');
  // ldd exits 1 with "not a dynamic executable" for a static binary; a dynamic busybox would need its libc.
  const probe = spawnSync('ldd', [path], { encoding: 'utf8' });
  if (probe.status === 0) {
    throw new CatapultImageError(`${path} is dynamically linked: install busybox-static instead of busybox`);
  }
  return path;
}

/**
 * catapult loads OpenSSL's `legacy` provider at start (crypto/OpensslInit.cpp; it aborts with "unable to load
 * required OpenSSL crypto providers" without it). libcrypto dlopens it from MODULESDIR, which Debian sets to
 * `<libdir>/ossl-modules`: ldd cannot see it.
 */
function opensslLegacyProvider(libraries: readonly RuntimeLibrary[]): string {
  const libcrypto = libraries.find((library) => library.soname === 'libcrypto.so.3');
  if (!libcrypto) throw new CatapultImageError('catapult does not link libcrypto.so.3: cannot place its providers');
  const provider = join(dirname(libcrypto.hostFile), 'ossl-modules', 'legacy.so');
  if (!existsSync(provider))
    throw new CatapultImageError(`OpenSSL's legacy provider is missing: ${provider} (package libssl3)`);
  return provider;
}

/**
 * The base layer (C/C++ runtime, loader, busybox, users, /tmp) and the third-party library layer, from one
 * ldd pass over the build's executables and plugins.
 */
function runtimeLayers(build: CatapultBuild): { base: ImageEntry[]; deps: ImageEntry[] } {
  const elfFiles = [
    ...CATAPULT_EXECUTABLES.map((name) => join(build.binDir, name)),
    ...CATAPULT_LIBRARIES.map((name) => join(build.libDir, name)),
  ];
  const libraries = resolveRuntimeLibraries(elfFiles, build.libDir);
  const legacyProvider = opensslLegacyProvider(libraries);
  // the provider's own needs (libcrypto, libc) are already in the list; ldd checks it loads
  resolveRuntimeLibraries([legacyProvider], build.libDir);
  const entries: ImageEntry[] = [
    // Debian 12 is merged-/usr: the loader path in every binary (/lib64/ld-linux-x86-64.so.2) goes through these.
    { path: 'lib', type: 'symlink', target: 'usr/lib' },
    { path: 'lib64', type: 'symlink', target: 'usr/lib64' },
    { path: 'bin/busybox', mode: 0o755, source: staticBusybox() },
    ...BUSYBOX_COMMANDS.map((command): ImageEntry => ({ path: `bin/${command}`, type: 'symlink', target: 'busybox' })),
    {
      path: 'etc/passwd',
      mode: 0o644,
      content: `root:x:0:0:root:/root:/bin/sh\ncatapult:x:${CATAPULT_UID}:${CATAPULT_UID}:catapult:/tmp:/bin/sh\n`,
    },
    { path: 'etc/group', mode: 0o644, content: `root:x:0:\ncatapult:x:${CATAPULT_UID}:\n` },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
  ];
  const deps: ImageEntry[] = [];
  for (const library of libraries) {
    if (library.kind === 'third-party') {
      deps.push({ path: `${CATAPULT_IMAGE_ROOT}/deps/${library.soname}`, mode: 0o644, source: library.hostFile });
      continue;
    }
    const imagePath = systemImagePath(library);
    entries.push({ path: imagePath, mode: 0o755, source: library.hostFile });
    const interpreterPath = usrMergedPath(library.hostPath);
    if (library.kind === 'loader' && interpreterPath !== imagePath) {
      entries.push({ path: interpreterPath, type: 'symlink', target: relative(dirname(interpreterPath), imagePath) });
    }
  }
  // dlopened by libcrypto from its compiled-in MODULESDIR, so it keeps its host path
  entries.push({ path: legacyProvider, mode: 0o644, source: legacyProvider });
  return { base: entries, deps };
}

function imageSpec(build: CatapultBuild): ImageSpec {
  const { base, deps } = runtimeLayers(build);
  const catapult: ImageEntry[] = [
    ...CATAPULT_EXECUTABLES.map((name): ImageEntry => ({
      path: `${CATAPULT_IMAGE_ROOT}/bin/${name}`,
      mode: 0o755,
      source: join(build.binDir, name),
    })),
    ...CATAPULT_LIBRARIES.map((name): ImageEntry => ({
      path: `${CATAPULT_IMAGE_ROOT}/lib/${name}`,
      mode: 0o644,
      source: join(build.libDir, name),
    })),
  ];
  return {
    name: CATAPULT_IMAGE_NAME,
    layers: [base, deps, catapult],
    config: {
      User: `${CATAPULT_UID}:${CATAPULT_UID}`,
      Env: [`PATH=${CATAPULT_IMAGE_ROOT}/bin:/bin`, `LD_LIBRARY_PATH=${CATAPULT_IMAGE_LD_LIBRARY_PATH}`],
      Cmd: [`${CATAPULT_IMAGE_ROOT}/bin/catapult.server`, '/userconfig'],
      WorkingDir: '/',
      Labels: {
        'org.opencontainers.image.title': 'catapult-server',
        'org.opencontainers.image.description': 'Symbol catapult peer node (server and recovery)',
        'org.opencontainers.image.version': CATAPULT_VERSION,
        'org.opencontainers.image.licenses': 'LGPL-3.0-only',
        'org.opencontainers.image.source': `https://github.com/symbol/symbol/tree/client/catapult/${CATAPULT_VERSION}/client/catapult`,
        'io.symbol.catapult.build': build.key,
      },
    },
  };
}

/** Hash of everything that ends up in the archive: entries (file contents by sha256), config, the writer. */
async function contentKey(spec: ImageSpec): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(join(stackSourceDir, 'image', 'oci.ts')));
  hash.update(JSON.stringify({ name: spec.name, config: spec.config, tag: spec.tag ?? null }));
  for (const layer of spec.layers) {
    hash.update('\0layer\0');
    for (const entry of layer) {
      const { source, content, ...rest } = entry as ImageEntry & { source?: string; content?: string | Buffer };
      hash.update(JSON.stringify(rest));
      if (source !== undefined) hash.update(await sha256File(source));
      if (content !== undefined) hash.update(createHash('sha256').update(content).digest('hex'));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds catapult if needed and returns the image archive (OCI layout tarball, importable with `ctr images
 * import`), cached under the cache root by content: a second call with nothing changed only hashes files.
 */
export async function ensureCatapultImage(log: (line: string) => void = console.log): Promise<WrittenImage> {
  const build = await ensureCatapultBuild(log);
  const spec = imageSpec(build);
  const key = await contentKey(spec);
  const archive = join(catapultImagePaths.dir, `catapult-server-${key}.tar`);
  const record = `${archive}.json`;
  const cached = async (): Promise<WrittenImage | undefined> =>
    existsSync(archive) && existsSync(record)
      ? (JSON.parse(await readFile(record, 'utf8')) as WrittenImage)
      : undefined;
  const hit = await cached();
  if (hit) return hit;
  await mkdir(catapultImagePaths.dir, { recursive: true });
  return withLock(
    catapultImagePaths.lock,
    'packing the catapult image',
    async () => {
      const again = await cached();
      if (again) return again;
      const started = Date.now();
      const written = await writeOciArchive(spec, archive);
      await writeFile(record, JSON.stringify(written, null, 2));
      // Older archives of this image are never read again (the key covers every input): keep the cache small.
      for (const name of await readdir(catapultImagePaths.dir)) {
        if (/^catapult-server-[0-9a-f]{16}\.tar(\.json)?$/.test(name) && !name.startsWith(`catapult-server-${key}.`)) {
          await rm(join(catapultImagePaths.dir, name), { force: true });
        }
      }
      log(
        `packed ${written.reference} (${(written.bytes / 1024 / 1024).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s → ${archive}`,
      );
      return written;
    },
    log,
  );
}
