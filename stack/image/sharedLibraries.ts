/**
 * The shared libraries a set of ELF binaries loads, found with the dynamic loader itself (`ldd`), as image
 * entries at the same absolute paths: the binaries' interpreter path (/lib64/ld-linux-x86-64.so.2) and the
 * multiarch directories the loader searches by default (/lib/x86_64-linux-gnu) then resolve inside the image
 * exactly as on this machine, without an ld.so.cache.
 */
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ImageEntry } from './oci.js';

const run = promisify(execFile);

export interface SharedLibrary {
  /** The path the loader asks for (a soname path), e.g. /lib/x86_64-linux-gnu/libc.so.6. */
  path: string;
  /** The file behind it on this machine (symlinks resolved). */
  file: string;
}

/** `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and the interpreter's `/lib64/ld-linux-x86-64.so.2 (0x...)`. */
export function parseLdd(output: string, binary: string): string[] {
  const found: string[] = [];
  for (const line of output.split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('linux-vdso') || text.startsWith('linux-gate')) continue;
    if (text.includes('=> not found')) throw new Error(`${binary} needs ${text.split(' ')[0]}, which ldd cannot find`);
    const mapped = /=>\s+(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(text);
    const direct = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(text);
    const path = mapped?.[1] ?? direct?.[1];
    if (path) found.push(path);
    else if (!/statically linked/.test(text)) throw new Error(`unexpected ldd output for ${binary}: ${text}`);
  }
  return found;
}

export async function sharedLibraries(binaries: string[]): Promise<SharedLibrary[]> {
  const paths = new Set<string>();
  for (const binary of binaries) {
    const { stdout } = await run('ldd', [binary]).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`ldd ${binary} failed: ${error.stderr?.trim() || error.message}`);
    });
    for (const path of parseLdd(stdout, binary)) paths.add(path);
  }
  const libraries: SharedLibrary[] = [];
  for (const path of [...paths].sort()) libraries.push({ path, file: await realpath(path) });
  return libraries;
}

/** Each library as a regular file at the path the loader asks for (no symlink chains to reproduce). */
export function libraryEntries(libraries: SharedLibrary[]): ImageEntry[] {
  return libraries.map(({ path, file }) => ({ path, mode: 0o755, source: file }));
}
