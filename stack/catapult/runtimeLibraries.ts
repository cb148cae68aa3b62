/**
 * The shared libraries catapult needs at run time, found with `ldd` (the dynamic loader itself, so what it lists
 * is what the binaries will load) on every executable and plugin of the build. glibc, libstdc++ and libgcc_s
 * keep their standard paths in the image; everything else (boost, RocksDB and its compressors, OpenSSL) goes to
 * /usr/catapult/deps, which the pod puts on LD_LIBRARY_PATH as Symbol's own images do.
 */
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseLdd } from '../image/sharedLibraries.js';

export class RuntimeLibraryError extends Error {
  override name = 'RuntimeLibraryError';
}

export interface RuntimeLibrary {
  /** The name DT_NEEDED asks for, e.g. libssl.so.3. */
  soname: string;
  /** Host file with the content (symlinks resolved). */
  hostFile: string;
  /** Where the loader found it on the host, e.g. /lib/x86_64-linux-gnu/libssl.so.3. */
  hostPath: string;
  kind: 'loader' | 'system' | 'third-party';
}

/** The C and C++ runtime: they stay where the loader looks by default. */
const SYSTEM_LIBRARY =
  /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libresolv\.so\.2|libutil\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$/;

/**
 * Every library the given ELF files need (transitively: ldd lists the whole closure), except those found in
 * `ownLibraryDir` (catapult's own plugins and extensions).
 */
export function resolveRuntimeLibraries(elfFiles: readonly string[], ownLibraryDir: string): RuntimeLibrary[] {
  const found = new Map<string, RuntimeLibrary>();
  const ownDir = realpathSync(ownLibraryDir);
  for (const file of elfFiles) {
    const probe = spawnSync('ldd', [file], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: ownLibraryDir },
    });
    if (probe.error || probe.status !== 0) {
      throw new RuntimeLibraryError(
        `ldd ${file} failed: ${(probe.stderr || probe.stdout || String(probe.error)).trim()}`,
      );
    }
    for (const line of parseLdd(probe.stdout)) {
      if (!line.path) throw new RuntimeLibraryError(`${basename(file)} needs ${line.soname}, which is not installed`);
      const hostFile = realpathSync(line.path);
      if (dirname(hostFile) === ownDir) continue;
      const kind = line.loader ? 'loader' : SYSTEM_LIBRARY.test(line.soname) ? 'system' : 'third-party';
      const existing = found.get(line.soname);
      if (existing && existing.hostFile !== hostFile) {
        throw new RuntimeLibraryError(`${line.soname} resolves to both ${existing.hostFile} and ${hostFile}`);
      }
      found.set(line.soname, { soname: line.soname, hostFile, hostPath: line.path, kind });
    }
  }
  return [...found.values()].sort((a, b) => (a.soname < b.soname ? -1 : a.soname > b.soname ? 1 : 0));
}

/** `/lib64/ld-linux-x86-64.so.2` → `/usr/lib64/ld-linux-x86-64.so.2`: the path under the image's real /usr. */
export function usrMergedPath(path: string): string {
  return /^\/(lib|lib64|bin|sbin)\//.test(path) ? `/usr${path}` : path;
}

/** Where a C/C++ runtime library goes in the image: its real directory on the host, under its soname. */
export function systemImagePath(library: RuntimeLibrary): string {
  return join(dirname(realpathSync(library.hostPath)), library.soname);
}
