/**
 * A small, reproducible OCI image writer: no container engine, no `tar` subprocess.
 *
 * The archive is an OCI image layout tarball (oci-layout, index.json, blobs/sha256/...) that also
 * carries a docker-style manifest.json with RepoTags, so both `ctr images import` and
 * `docker load`/`podman load` name the image. Layers are gzip (fixed level) of a PAX tar (tarWriter.ts) with
 * sorted entries, mtime 0 and root ownership unless given, so the same inputs give the same
 * digests and therefore the same content tag.
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { bodyOf, bufferMember, dirMember, tarStream, type TarMember } from './tarWriter.js';

export type ImageEntry =
  | { path: string; type?: 'file'; mode: number; uid?: number; gid?: number; source: string } // copy a host file
  | { path: string; type?: 'file'; mode: number; uid?: number; gid?: number; content: string | Buffer } // inline
  | { path: string; type: 'dir'; mode: number; uid?: number; gid?: number }
  | { path: string; type: 'symlink'; target: string };

export interface ImageSpec {
  /** repository, e.g. 'localhost/symbol-node-operator' */
  name: string;
  /** each inner array is one layer; parent dirs are added automatically (0755 root) */
  layers: ImageEntry[][];
  config: {
    Entrypoint?: string[];
    Cmd?: string[];
    Env?: string[];
    User?: string;
    WorkingDir?: string;
    Labels?: Record<string, string>;
  };
  /** explicit tag; default: tag by content = first 16 hex of the manifest digest */
  tag?: string;
}

export interface WrittenImage {
  /** name:tag */
  reference: string;
  /** manifest digest, sha256:... */
  digest: string;
  /** size of the archive file */
  bytes: number;
  archive: string;
}

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** Fixed so a layer's compressed digest only depends on its content (and the zlib build). */
const GZIP_LEVEL = 6;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

interface BlobFile extends Descriptor {
  file: string;
}

export async function writeOciArchive(spec: ImageSpec, archive: string): Promise<WrittenImage> {
  validateName(spec.name);
  if (spec.tag !== undefined) validateTag(spec.tag);
  const work = await mkdtemp(join(dirname(archive), '.oci-'));
  try {
    const layers: BlobFile[] = [];
    const diffIds: string[] = [];
    for (const [index, entries] of spec.layers.entries()) {
      const file = join(work, `layer-${index}`);
      const { diffId, blob } = await writeLayer(normalizeLayer(entries), file);
      layers.push(blob);
      diffIds.push(diffId);
    }
    const platform = { architecture: ociArchitecture(process.arch), os: 'linux' };
    const config = jsonBlob(MEDIA.config, {
      created: '1970-01-01T00:00:00Z',
      ...platform,
      config: imageConfig(spec.config),
      rootfs: { type: 'layers', diff_ids: diffIds },
    });
    const manifest = jsonBlob(MEDIA.manifest, {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: descriptor(config),
      layers: layers.map(descriptor),
    });
    const tag = spec.tag ?? manifest.digest.slice('sha256:'.length, 'sha256:'.length + 16);
    const reference = `${spec.name}:${tag}`;
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [
        {
          ...descriptor(manifest),
          annotations: { 'io.containerd.image.name': reference, 'org.opencontainers.image.ref.name': tag },
          platform,
        },
      ],
    };
    const dockerManifest = [
      { Config: blobPath(config), RepoTags: [reference], Layers: layers.map((layer) => blobPath(layer)) },
    ];

    const members: TarMember[] = [
      dirMember('blobs/', 0o755),
      dirMember('blobs/sha256/', 0o755),
      ...[config, manifest, ...layers]
        .filter((blob, i, all) => all.findIndex((other) => other.digest === blob.digest) === i)
        .sort((a, b) => compare(a.digest, b.digest))
        .map((blob) => blobMember(blob)),
      bufferMember('index.json', Buffer.from(JSON.stringify(index))),
      bufferMember('manifest.json', Buffer.from(JSON.stringify(dockerManifest))),
      bufferMember('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))),
    ];
    const partial = `${archive}.partial`;
    await pipeline(Readable.from(tarStream(members)), createWriteStream(partial));
    await rename(partial, archive);
    const bytes = (await stat(archive)).size;
    return { reference, digest: manifest.digest, bytes, archive };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- image config and blobs

function imageConfig(config: ImageSpec['config']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (config.User !== undefined) out.User = config.User;
  if (config.Env !== undefined) out.Env = [...config.Env];
  if (config.Entrypoint !== undefined) out.Entrypoint = [...config.Entrypoint];
  if (config.Cmd !== undefined) out.Cmd = [...config.Cmd];
  if (config.WorkingDir !== undefined) out.WorkingDir = config.WorkingDir;
  if (config.Labels !== undefined) {
    out.Labels = Object.fromEntries(Object.entries(config.Labels).sort(([a], [b]) => compare(a, b)));
  }
  return out;
}

interface JsonBlob extends Descriptor {
  body: Buffer;
}

function jsonBlob(mediaType: string, value: unknown): JsonBlob {
  const body = Buffer.from(JSON.stringify(value));
  return { mediaType, digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, size: body.length, body };
}

function descriptor(blob: Descriptor): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

function blobPath(blob: Descriptor): string {
  return `blobs/sha256/${blob.digest.slice('sha256:'.length)}`;
}

function blobMember(blob: BlobFile | JsonBlob): TarMember {
  const base = { name: blobPath(blob), type: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: blob.size };
  return 'body' in blob ? { ...base, body: blob.body } : { ...base, file: blob.file };
}

function ociArchitecture(arch: string): string {
  const known: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  const mapped = known[arch];
  if (!mapped) throw new Error(`no OCI architecture name for node arch ${arch}`);
  return mapped;
}

function validateName(name: string): void {
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(name)) {
    throw new Error(`invalid image name ${JSON.stringify(name)} (expected e.g. localhost/symbol-node-operator)`);
  }
}

function validateTag(tag: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new Error(`invalid image tag ${JSON.stringify(tag)}`);
}

// ---------------------------------------------------------------- layers

interface LayerEntry {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  source?: string;
  content?: Buffer;
  target?: string;
}

/** Validates and sorts one layer's entries and adds the missing parent directories. */
function normalizeLayer(entries: ImageEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of entries) {
    const path = normalizePath(entry.path);
    if (byPath.has(path)) throw new Error(`image layer lists ${path} twice`);
    if (entry.type === 'symlink') {
      if (!entry.target) throw new Error(`symlink ${path} has no target`);
      byPath.set(path, { path, kind: 'symlink', mode: 0o777, uid: 0, gid: 0, target: entry.target });
      continue;
    }
    const owner = { mode: entry.mode & 0o7777, uid: entry.uid ?? 0, gid: entry.gid ?? 0 };
    if (entry.type === 'dir') byPath.set(path, { path, kind: 'dir', ...owner });
    else if ('source' in entry) byPath.set(path, { path, kind: 'file', ...owner, source: entry.source });
    else {
      const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
      byPath.set(path, { path, kind: 'file', ...owner, content });
    }
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { path: parent, kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
      else if (existing.kind !== 'dir')
        throw new Error(`image layer: ${parent} is a ${existing.kind} but ${path} is under it`);
    }
  }
  return [...byPath.values()].sort((a, b) => compare(a.path, b.path));
}

function normalizePath(raw: string): string {
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) throw new Error(`image entry path ${JSON.stringify(raw)} names no file`);
  if (parts.includes('..')) throw new Error(`image entry path ${JSON.stringify(raw)} contains ..`);
  return parts.join('/');
}

/** Byte-wise order, so the layout does not depend on the locale. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function writeLayer(entries: LayerEntry[], file: string): Promise<{ diffId: string; blob: BlobFile }> {
  const members: TarMember[] = [];
  for (const entry of entries) {
    const header = { mode: entry.mode, uid: entry.uid, gid: entry.gid };
    if (entry.kind === 'dir') members.push({ name: `${entry.path}/`, type: 'dir', ...header, size: 0 });
    else if (entry.kind === 'symlink') {
      members.push({ name: entry.path, type: 'symlink', ...header, size: 0, linkname: entry.target });
    } else if (entry.content) members.push({ name: entry.path, type: 'file', ...header, ...bodyOf(entry.content) });
    else {
      const source = entry.source!;
      const info = await stat(source).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`image entry ${entry.path}: cannot read ${source} (${error.code ?? error.message})`);
      });
      if (!info.isFile()) throw new Error(`image entry ${entry.path}: ${source} is not a regular file`);
      members.push({ name: entry.path, type: 'file', ...header, size: info.size, file: source });
    }
  }
  const uncompressed = new HashingPassThrough();
  const compressed = new HashingPassThrough();
  await pipeline(
    Readable.from(tarStream(members)),
    uncompressed,
    createGzip({ level: GZIP_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY }),
    compressed,
    createWriteStream(file),
  );
  return {
    diffId: `sha256:${uncompressed.hex()}`,
    blob: { mediaType: MEDIA.layer, digest: `sha256:${compressed.hex()}`, size: compressed.bytes, file },
  };
}

class HashingPassThrough extends Transform {
  readonly #hash: Hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
  hex(): string {
    return this.#hash.digest('hex');
  }
}
