/**
 * The shared libraries a set of ELF binaries loads, found with the dynamic loader itself (`ldd`), as image
 * entries at the same absolute paths: the binaries' interpreter path (/lib64/ld-linux-x86-64.so.2) and the
 * multiarch directories the loader searches by default (/lib/x86_64-linux-gnu) then resolve inside the image
 * exactly as on this machine, without an ld.so.cache.
 */
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import type { ImageEntry } from './oci.js';

const run = promisify(execFile);

export interface SharedLibrary {
  /** The path the loader asks for (a soname path), e.g. /lib/x86_64-linux-gnu/libc.so.6. */
  path: string;
  /** The file behind it on this machine (symlinks resolved). */
  file: string;
}

export interface LddLine {
  soname: string;
  /** Where the loader finds it; absent: not found. */
  path?: string;
  /** The dynamic loader itself (the binary's interpreter). */
  loader?: boolean;
}

/** Parses `ldd` output: `name => /path (0x…)`, `/lib64/ld-linux-x86-64.so.2 (0x…)`, `name => not found`. */
export function parseLdd(output: string): LddLine[] {
  const lines: LddLine[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('linux-vdso') || line.startsWith('linux-gate')) continue;
    const arrow = /^(\S+) => (not found|(\S+) \(0x[0-9a-f]+\))$/.exec(line);
    if (arrow) {
      lines.push(arrow[3] ? { soname: arrow[1]!, path: arrow[3] } : { soname: arrow[1]! });
      continue;
    }
    const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (loader) lines.push({ soname: basename(loader[1]!), path: loader[1]!, loader: true });
  }
  return lines;
}

export async function sharedLibraries(binaries: string[]): Promise<SharedLibrary[]> {
  const paths = new Set<string>();
  for (const binary of binaries) {
    const { stdout } = await run('ldd', [binary]).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`ldd ${binary} failed: ${error.stderr?.trim() || error.message}`);
    });
    for (const line of parseLdd(stdout)) {
      if (!line.path) throw new Error(`${binary} needs ${line.soname}, which ldd cannot find`);
      paths.add(line.path);
    }
  }
  const libraries: SharedLibrary[] = [];
  for (const path of [...paths].sort()) libraries.push({ path, file: await realpath(path) });
  return libraries;
}

/** Each library as a regular file at the path the loader asks for (no symlink chains to reproduce). */
export function libraryEntries(libraries: SharedLibrary[]): ImageEntry[] {
  return libraries.map(({ path, file }) => ({ path, mode: 0o755, source: file }));
}
