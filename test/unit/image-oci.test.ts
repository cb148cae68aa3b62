import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

import { writeOciArchive, type ImageSpec } from '../../stack/image/oci.js';
import { parseTar } from '../../stack/image/tarReader.js';

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}
interface OciIndex {
  manifests: (Desc & { annotations: Record<string, string> })[];
}
interface OciManifest {
  mediaType: string;
  config: Desc;
  layers: Desc[];
}
interface OciConfig {
  os: string;
  config: { Entrypoint: string[]; User: string; Labels: Record<string, string> };
  rootfs: { diff_ids: string[] };
}
const json = <T>(bytes: Buffer): T => JSON.parse(bytes.toString()) as T;
/** The writer's header format, POSIX ustar (magic and version), checked on an archive's first header. */
const isPosixUstar = (tar: Buffer): boolean => tar.subarray(257, 265).toString('latin1') === 'ustar\u000000';

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const longDir = `opt/${'deep-directory-name/'.repeat(8)}`; // > 155 bytes: no ustar prefix split possible
const longName = `${longDir}${'f'.repeat(120)}.txt`;
const longTarget = `/${'t'.repeat(150)}`;

describe('OCI image archive writer', () => {
  let dir: string;
  let hostFile: string;
  let spec: ImageSpec;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'image-oci-test-'));
    hostFile = join(dir, 'host-binary');
    await writeFile(hostFile, Buffer.alloc(70_000, 7));
    spec = {
      name: 'localhost/test-image',
      layers: [
        [
          { path: '/etc/passwd', mode: 0o644, content: 'nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n' },
          { path: '/usr/bin/tool', mode: 0o755, source: hostFile },
          { path: '/home/nonroot', type: 'dir', mode: 0o700, uid: 65532, gid: 65532 },
        ],
        [
          { path: 'app/readme', mode: 0o600, uid: 65532, gid: 65532, content: Buffer.from('hello') },
          { path: 'app/current', type: 'symlink', target: 'readme' },
          { path: longName, mode: 0o644, content: 'long' },
          { path: 'app/far', type: 'symlink', target: longTarget },
        ],
      ],
      config: {
        Entrypoint: ['/usr/bin/tool'],
        Cmd: ['--help'],
        Env: ['PATH=/usr/bin'],
        User: '65532',
        WorkingDir: '/app',
        Labels: { b: '2', a: '1' },
      },
    };
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('writes an OCI layout whose digests, diff_ids and names agree', async () => {
    const written = await writeOciArchive(spec, join(dir, 'one.tar'));
    const archive = await readFile(written.archive);
    assert.equal(written.bytes, archive.length);
    assert.ok(isPosixUstar(archive), 'POSIX ustar headers');
    const files = new Map(parseTar(archive).map((entry) => [entry.path, entry]));

    assert.deepEqual(JSON.parse(files.get('oci-layout')!.body.toString()), { imageLayoutVersion: '1.0.0' });
    for (const [name, entry] of files) {
      if (name.startsWith('blobs/sha256/') && entry.type === 'file') {
        assert.equal(sha256(entry.body), `sha256:${name.slice('blobs/sha256/'.length)}`, `blob ${name} digest`);
      }
    }
    const blob = (digest: string): Buffer => {
      const entry = files.get(`blobs/sha256/${digest.slice('sha256:'.length)}`);
      assert.ok(entry, `blob ${digest} present`);
      return entry.body;
    };

    const index = json<OciIndex>(files.get('index.json')!.body);
    assert.equal(index.manifests.length, 1);
    const top = index.manifests[0]!;
    assert.equal(top.digest, written.digest);
    const tag = written.digest.slice('sha256:'.length, 'sha256:'.length + 16);
    assert.equal(written.reference, `localhost/test-image:${tag}`);
    assert.equal(top.annotations['org.opencontainers.image.ref.name'], tag);
    assert.equal(top.annotations['io.containerd.image.name'], written.reference);
    assert.equal(top.size, blob(top.digest).length);

    const manifest = json<OciManifest>(blob(top.digest));
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.layers.length, 2);
    const config = json<OciConfig>(blob(manifest.config.digest));
    assert.equal(manifest.config.size, blob(manifest.config.digest).length);
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config.Entrypoint, ['/usr/bin/tool']);
    assert.equal(config.config.User, '65532');
    assert.deepEqual(Object.keys(config.config.Labels), ['a', 'b']);
    const layerTars = manifest.layers.map((layer, i) => {
      assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      assert.equal(layer.size, blob(layer.digest).length);
      const tar = gunzipSync(blob(layer.digest));
      assert.equal(sha256(tar), config.rootfs.diff_ids[i], `diff_id of layer ${i}`);
      assert.ok(isPosixUstar(tar), `POSIX ustar headers in layer ${i}`);
      return tar;
    });

    const docker = json<unknown>(files.get('manifest.json')!.body);
    assert.deepEqual(docker, [
      {
        Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
        RepoTags: [written.reference],
        Layers: manifest.layers.map((layer) => `blobs/sha256/${layer.digest.slice(7)}`),
      },
    ]);

    const base = parseTar(layerTars[0]!);
    assert.deepEqual(
      base.map((entry) => (entry.type === 'dir' ? `${entry.path}/` : entry.path)),
      ['etc/', 'etc/passwd', 'home/', 'home/nonroot/', 'usr/', 'usr/bin/', 'usr/bin/tool'],
      'sorted, with parents added',
    );
    const byName = new Map(base.map((entry) => [entry.path, entry]));
    assert.equal(byName.get('usr/bin/tool')!.mode, 0o755);
    assert.ok(byName.get('usr/bin/tool')!.body.equals(Buffer.alloc(70_000, 7)), 'host file copied');
    assert.deepEqual(byName.get('home/nonroot'), {
      path: 'home/nonroot',
      type: 'dir',
      mode: 0o700,
      uid: 65532,
      gid: 65532,
      body: Buffer.alloc(0),
    });
    assert.deepEqual([byName.get('usr')!.mode, byName.get('usr')!.uid], [0o755, 0]);

    const app = new Map(parseTar(layerTars[1]!).map((entry) => [entry.path, entry]));
    assert.deepEqual([app.get('app/current')!.type, app.get('app/current')!.linkTarget], ['symlink', 'readme']);
    assert.deepEqual([app.get('app/far')!.type, app.get('app/far')!.linkTarget], ['symlink', longTarget]);
    assert.equal(app.get(longName)!.body.toString(), 'long');
    assert.deepEqual([app.get('app/readme')!.mode, app.get('app/readme')!.uid], [0o600, 65532]);
    assert.equal(app.get(longDir.slice(0, -1))?.type, 'dir', 'long parent directory added');
  });

  it('is read the same way by GNU tar (long names, symlinks, modes, mtime 0)', async () => {
    const written = await writeOciArchive(spec, join(dir, 'gnu.tar'));
    const files = new Map(parseTar(await readFile(written.archive)).map((entry) => [entry.path, entry]));
    const manifest = json<OciManifest>(files.get(`blobs/sha256/${written.digest.slice(7)}`)!.body);
    const list = async (index: number): Promise<string[]> => {
      const layer = join(dir, `layer${index}.tar`);
      await writeFile(layer, gunzipSync(files.get(`blobs/sha256/${manifest.layers[index]!.digest.slice(7)}`)!.body));
      const args = ['--list', '--verbose', '--numeric-owner', '--full-time', '--file', layer];
      const { stdout } = await promisify(execFile)('tar', args, { env: { ...process.env, TZ: 'UTC' } });
      return stdout.trim().split('\n');
    };
    const base = await list(0);
    const lines = await list(1);
    for (const line of [...base, ...lines]) assert.match(line, / 1970-01-01 00:00:00 /, `mtime 0: ${line}`);
    assert.ok(base.some((line) => line.startsWith('drwx------ 65532/65532') && line.endsWith(' home/nonroot/')));
    assert.ok(lines.some((line) => line.startsWith('lrwxrwxrwx 0/0') && line.endsWith(`app/far -> ${longTarget}`)));
    assert.ok(lines.some((line) => line.startsWith('-rw------- 65532/65532') && line.endsWith(' app/readme')));
    assert.ok(lines.some((line) => line.endsWith(` ${longName}`)));
  });

  it('gives the same tag and bytes for the same inputs, another for other inputs', async () => {
    const first = await writeOciArchive(spec, join(dir, 'a.tar'));
    const second = await writeOciArchive(spec, join(dir, 'b.tar'));
    assert.equal(first.reference, second.reference);
    assert.ok((await readFile(first.archive)).equals(await readFile(second.archive)));

    const renamed = await writeOciArchive({ ...spec, name: 'localhost/other' }, join(dir, 'c.tar'));
    assert.equal(renamed.digest, first.digest, 'the repository name is not part of the content');

    const changed = await writeOciArchive(
      { ...spec, config: { ...spec.config, Cmd: ['--version'] } },
      join(dir, 'd.tar'),
    );
    assert.notEqual(changed.reference.split(':')[1], first.reference.split(':')[1]);

    const tagged = await writeOciArchive({ ...spec, tag: 'v1' }, join(dir, 'e.tar'));
    assert.equal(tagged.reference, 'localhost/test-image:v1');
    assert.equal(tagged.digest, first.digest);
  });

  it('refuses ambiguous or escaping entries with a clear error', async () => {
    const out = join(dir, 'bad.tar');
    await assert.rejects(
      writeOciArchive({ ...spec, layers: [[{ path: '../etc/x', mode: 0o644, content: '' }]] }, out),
      /contains \.\./,
    );
    await assert.rejects(
      writeOciArchive(
        {
          ...spec,
          layers: [
            [
              { path: 'a', mode: 0o644, content: '' },
              { path: '/a/', type: 'dir', mode: 0o755 },
            ],
          ],
        },
        out,
      ),
      /lists a twice/,
    );
    await assert.rejects(
      writeOciArchive({ ...spec, layers: [[{ path: 'x', mode: 0o644, source: join(dir, 'missing') }]] }, out),
      /cannot read .*missing \(ENOENT\)/,
    );
    await assert.rejects(writeOciArchive({ ...spec, name: 'Bad Name' }, out), /invalid image name/);
  });
});
