import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ImageUnpackError, unpackImageArchive } from '../../stack/image/ociRootfs.js';
import { resolveRuntimeLibraries, usrMergedPath } from '../../stack/catapult/runtimeLibraries.js';
import { parseLdd } from '../../stack/image/sharedLibraries.js';
import { writeOciArchive } from '../../stack/image/oci.js';

describe('runtime library resolution', () => {
  it('parses ldd output: found, loader, vdso and missing libraries', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffc6b3f6000)',
      '\tlibboost_log.so.1.81.0 => /lib/x86_64-linux-gnu/libboost_log.so.1.81.0 (0x00007f2b1c000000)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2b1bc00000)',
      '\tlibmissing.so.2 => not found',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f2b1c9d0000)',
    ].join('\n');
    assert.deepEqual(parseLdd(output), [
      { soname: 'libboost_log.so.1.81.0', path: '/lib/x86_64-linux-gnu/libboost_log.so.1.81.0' },
      { soname: 'libstdc++.so.6', path: '/lib/x86_64-linux-gnu/libstdc++.so.6' },
      { soname: 'libmissing.so.2' },
      { soname: 'ld-linux-x86-64.so.2', path: '/lib64/ld-linux-x86-64.so.2', loader: true },
    ]);
  });

  it("classifies a real library's closure (libssl.so.3 on this machine) into loader, C runtime and third-party", () => {
    const libraries = resolveRuntimeLibraries(['/usr/lib/x86_64-linux-gnu/libssl.so.3'], tmpdir());
    const kinds = Object.fromEntries(libraries.map((library) => [library.soname, library.kind]));
    assert.equal(kinds['libcrypto.so.3'], 'third-party');
    assert.equal(kinds['libc.so.6'], 'system');
    assert.equal(kinds['ld-linux-x86-64.so.2'], 'loader');
    for (const library of libraries) assert.ok(library.hostFile.startsWith('/usr/lib/'), library.hostFile);
  });

  it('maps merged-/usr paths', () => {
    assert.equal(usrMergedPath('/lib64/ld-linux-x86-64.so.2'), '/usr/lib64/ld-linux-x86-64.so.2');
    assert.equal(usrMergedPath('/usr/lib/x86_64-linux-gnu/libc.so.6'), '/usr/lib/x86_64-linux-gnu/libc.so.6');
  });
});

describe('image archive unpacking', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catapult-oci-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lays out every layer with modes, owners and symlinks, and returns the config', async () => {
    const { archive } = await writeOciArchive(
      {
        name: 'localhost/unpack-test',
        layers: [
          [
            { path: 'bin/tool', mode: 0o755, content: '#!/bin/sh\n' },
            { path: 'bin/alias', type: 'symlink', target: 'tool' },
            { path: 'tmp', type: 'dir', mode: 0o1777 },
          ],
          [{ path: 'data/owned', mode: 0o400, uid: 1000, gid: 1000, content: 'secret' }],
        ],
        config: { User: '1000:1000', Env: ['A=b'] },
      },
      join(dir, 'image.tar'),
    );
    const root = join(dir, 'root');
    const config = await unpackImageArchive(archive, root);
    assert.deepEqual(config, { User: '1000:1000', Env: ['A=b'] });
    assert.equal((await stat(join(root, 'bin/tool'))).mode & 0o7777, 0o755);
    assert.equal(await readlink(join(root, 'bin/alias')), 'tool');
    assert.equal((await stat(join(root, 'tmp'))).mode & 0o7777, 0o1777);
    const owned = await stat(join(root, 'data/owned'));
    assert.deepEqual([owned.mode & 0o7777, owned.uid, owned.gid], [0o400, 1000, 1000]);
    assert.equal(await readFile(join(root, 'data/owned'), 'utf8'), 'secret');
  });

  it('refuses a later layer that would write through a symlink out of the root', async () => {
    const outside = join(dir, 'outside');
    const { archive } = await writeOciArchive(
      {
        name: 'localhost/unpack-escape',
        layers: [
          [{ path: 'escape', type: 'symlink', target: outside }],
          [{ path: 'escape/file', mode: 0o644, content: 'x' }],
        ],
        config: {},
      },
      join(dir, 'escape.tar'),
    );
    await assert.rejects(unpackImageArchive(archive, join(dir, 'escape-root')), ImageUnpackError);
    assert.equal(await lstat(outside).catch(() => undefined), undefined, 'nothing was written outside the root');
  });
});
