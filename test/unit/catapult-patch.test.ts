import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { catapultBuildKey } from '../../stack/catapult/build.js';
import {
  CATAPULT_SOURCE_EDITS,
  CatapultPatchError,
  catapultPatchFingerprint,
  patchCatapultFile,
  patchCatapultSources,
} from '../../stack/catapult/patch.js';
import { CATAPULT_TARBALL_PREFIX, verifiedCatapultTarball } from '../../stack/catapult/source.js';
import { readTarGz, type TarEntry } from '../../stack/image/tarReader.js';

// The real upstream files: if catapult's CMake files move, these tests fail before a 20-minute build does.
let entries: TarEntry[];
const upstream = new Map<string, string>();

before(async () => {
  entries = await readTarGz(await verifiedCatapultTarball());
  for (const file of ['CMakeLists.txt', 'extensions/CMakeLists.txt']) {
    const entry = entries.find((e) => e.path === `${CATAPULT_TARBALL_PREFIX}${file}`);
    assert.ok(entry, `${file} is in the tarball`);
    upstream.set(file, entry.body.toString('utf8'));
  }
});

const lines = (text: string, pattern: RegExp): string[] => text.split('\n').filter((line) => pattern.test(line));

describe('catapult source patch (against the v1.0.3.8 tarball)', () => {
  it('relaxes exactly the boost, OpenSSL and RocksDB pins to the Debian 12 versions', () => {
    const before = upstream.get('CMakeLists.txt')!;
    const patched = patchCatapultFile('CMakeLists.txt', before);
    assert.deepEqual(lines(before, /EXACT/), [
      'find_package(Boost 1.83.0 EXACT COMPONENTS ${CATAPULT_BOOST_COMPONENTS} REQUIRED)',
      '\tfind_package(GTest 1.16.0 EXACT REQUIRED)',
      'find_package(OpenSSL 3.4.1 EXACT REQUIRED)',
      'find_package(RocksDB 9.8.4 EXACT REQUIRED)',
    ]);
    // GTest is only looked for with ENABLE_TESTS, which the build turns off
    assert.deepEqual(lines(patched, /EXACT/), ['\tfind_package(GTest 1.16.0 EXACT REQUIRED)']);
    assert.deepEqual(lines(patched, /^find_package\((Boost|OpenSSL|RocksDB)/), [
      'find_package(Boost 1.81.0 COMPONENTS ${CATAPULT_BOOST_COMPONENTS} REQUIRED)',
      'find_package(OpenSSL 3.0.0 REQUIRED)',
      'find_package(RocksDB 7.8.3 REQUIRED)',
    ]);
    // nothing else changed
    assert.equal(patched.split('\n').length, before.split('\n').length);
  });

  it('drops the mongo and zeromq extensions and keeps every other one', () => {
    const before = upstream.get('extensions/CMakeLists.txt')!;
    const patched = patchCatapultFile('extensions/CMakeLists.txt', before);
    const subdirs = (text: string): string[] =>
      lines(text, /^add_subdirectory\(/).map((line) => line.replace(/^add_subdirectory\((\w+)\)$/, '$1'));
    assert.deepEqual(
      subdirs(patched),
      subdirs(before).filter((name) => name !== 'mongo' && name !== 'zeromq'),
    );
    assert.ok(subdirs(before).includes('mongo') && subdirs(before).includes('zeromq'));
    assert.equal(patched.split('\n').length, before.split('\n').length - 2);
  });

  it('fails naming the edit when the upstream text moved (and when applied twice)', () => {
    const moved = upstream.get('CMakeLists.txt')!.replace('OpenSSL 3.4.1 EXACT', 'OpenSSL 3.5.0 EXACT');
    assert.throws(
      () => patchCatapultFile('CMakeLists.txt', moved),
      (error: unknown) =>
        error instanceof CatapultPatchError &&
        error.message.includes('OpenSSL 3.4.1 EXACT') &&
        error.message.includes('found it 0 times') &&
        error.message.includes('stack/catapult/patch.ts'),
    );
    const once = patchCatapultFile('extensions/CMakeLists.txt', upstream.get('extensions/CMakeLists.txt')!);
    assert.throws(() => patchCatapultFile('extensions/CMakeLists.txt', once), CatapultPatchError);
  });

  describe('on a source tree', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'catapult-patch-'));
      await mkdir(join(dir, 'extensions'));
      for (const [file, text] of upstream) await writeFile(join(dir, file), text);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('patches both files in place, and refuses a tree without them', async () => {
      await patchCatapultSources(dir);
      for (const [file, text] of upstream) {
        assert.equal(await readFile(join(dir, file), 'utf8'), patchCatapultFile(file, text));
      }
      await writeFile(join(dir, 'CMakeLists.txt'), upstream.get('CMakeLists.txt')!);
      await rm(join(dir, 'extensions'), { recursive: true });
      await assert.rejects(patchCatapultSources(dir), /extensions\/CMakeLists.txt is missing/);
    });
  });

  it('is part of the build cache key', () => {
    const toolchain = 'gcc-12=12.2.0-14';
    assert.equal(catapultBuildKey(toolchain), catapultBuildKey(toolchain));
    assert.notEqual(catapultBuildKey(toolchain), catapultBuildKey('gcc-12=12.2.0-15'));
    const changed = CATAPULT_SOURCE_EDITS.map((edit, i) => (i === 0 ? { ...edit, replace: `${edit.replace} ` } : edit));
    assert.notEqual(catapultPatchFingerprint(changed), catapultPatchFingerprint());
  });
});

describe('tar reader (against the v1.0.3.8 tarball)', () => {
  it('reads every entry, long names (ustar prefix or PAX) and the symlink', () => {
    const count = (type: TarEntry['type']): number => entries.filter((e) => e.type === type).length;
    // GNU tar lists 3664 files, 586 directories and 1 symlink in this tarball
    assert.deepEqual([count('file'), count('dir'), count('symlink')], [3664, 586, 1]);
    const long = entries.filter((e) => e.path.length > 100);
    assert.ok(long.length > 0, 'the tarball has names longer than a ustar name field');
    for (const entry of long) assert.ok(entry.path.startsWith(CATAPULT_TARBALL_PREFIX), entry.path);
    const link = entries.find((e) => e.type === 'symlink')!;
    assert.deepEqual(
      [link.path, link.linkTarget],
      ['catapult/scripts/ci/lint_python.sh', '../../../../linters/python/lint.sh'],
    );
    const license = entries.find((e) => e.path === 'catapult/COPYING.LESSER')!;
    assert.match(license.body.toString('utf8'), /GNU LESSER GENERAL PUBLIC LICENSE/);
  });
});
