/**
 * The edits that let catapult v1.0.3.8 build as a peer node with Debian 12's libraries
 * (../shared/catapult/README.md): upstream pins exact versions (boost 1.83, OpenSSL 3.4.1, RocksDB 9.8.4) that
 * Debian does not ship, and always adds the mongo and zeromq extensions, which need mongo-cxx and cppzmq that
 * Debian lacks. A peer needs neither (API roles, which do, stay simulated). Each edit must find its text exactly
 * once: if upstream moves, the build stops with the edit's name instead of building something else.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SourceEdit {
  /** Path relative to the catapult source root. */
  file: string;
  why: string;
  find: string;
  replace: string;
}

export const CATAPULT_SOURCE_EDITS: readonly SourceEdit[] = [
  {
    file: 'CMakeLists.txt',
    why: 'Debian 12 ships boost 1.81 (upstream pins 1.83 EXACT)',
    find: 'find_package(Boost 1.83.0 EXACT COMPONENTS ${CATAPULT_BOOST_COMPONENTS} REQUIRED)',
    replace: 'find_package(Boost 1.81.0 COMPONENTS ${CATAPULT_BOOST_COMPONENTS} REQUIRED)',
  },
  {
    file: 'CMakeLists.txt',
    why: 'Debian 12 ships OpenSSL 3.0 (upstream pins 3.4.1 EXACT)',
    find: 'find_package(OpenSSL 3.4.1 EXACT REQUIRED)',
    replace: 'find_package(OpenSSL 3.0.0 REQUIRED)',
  },
  {
    file: 'CMakeLists.txt',
    why: 'Debian 12 ships RocksDB 7.8.3 (upstream pins 9.8.4 EXACT)',
    find: 'find_package(RocksDB 9.8.4 EXACT REQUIRED)',
    replace: 'find_package(RocksDB 7.8.3 REQUIRED)',
  },
  {
    file: 'extensions/CMakeLists.txt',
    why: 'the mongo extension needs mongo-cxx, which Debian lacks; only API roles (broker) load it',
    find: 'add_subdirectory(mongo)\n',
    replace: '',
  },
  {
    file: 'extensions/CMakeLists.txt',
    why: 'the zeromq extension needs cppzmq 4.10 EXACT; only API roles (broker) load it',
    find: 'add_subdirectory(zeromq)\n',
    replace: '',
  },
];

export class CatapultPatchError extends Error {
  override name = 'CatapultPatchError';
}

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** Applies the edits that concern `file` to its text; throws if any edit's text is not there exactly once. */
export function patchCatapultFile(file: string, text: string, edits = CATAPULT_SOURCE_EDITS): string {
  let patched = text;
  for (const edit of edits.filter((e) => e.file === file)) {
    const found = occurrences(patched, edit.find);
    if (found !== 1) {
      throw new CatapultPatchError(
        `catapult patch (${edit.why}): expected ${JSON.stringify(edit.find)} once in ${file}, found it ${found} times; the upstream source changed, update stack/catapult/patch.ts`,
      );
    }
    patched = patched.replace(edit.find, () => edit.replace);
  }
  return patched;
}

/** Patches the unpacked source tree in place. */
export async function patchCatapultSources(sourceRoot: string, edits = CATAPULT_SOURCE_EDITS): Promise<void> {
  const files = [...new Set(edits.map((edit) => edit.file))];
  for (const file of files) {
    const path = join(sourceRoot, file);
    const text = await readFile(path, 'utf8').catch(() => {
      throw new CatapultPatchError(`catapult patch: ${file} is missing from the source tree`);
    });
    await writeFile(path, patchCatapultFile(file, text, edits));
  }
}

/** Stable text of the patch, part of the build's cache key. */
export function catapultPatchFingerprint(edits = CATAPULT_SOURCE_EDITS): string {
  return JSON.stringify(edits.map(({ file, find, replace }) => ({ file, find, replace })));
}
