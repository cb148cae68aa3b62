/**
 * A reproducible tar writer (ustar headers, PAX records for names and link targets that do not fit them), no
 * `tar` subprocess: members are written in the order given, with mtime 0 and the owners and modes given, so the
 * same members give the same bytes. File bodies come from memory or are streamed from host files.
 */
import { createReadStream } from 'node:fs';

const BLOCK = 512;

export interface TarMember {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  /** body from memory ... */
  body?: Buffer;
  /** ... or streamed from a host file (size checked while streaming) */
  file?: string;
}

export function bodyOf(content: Buffer): { size: number; body: Buffer } {
  return { size: content.length, body: content };
}

export function dirMember(name: string, mode: number): TarMember {
  return { name, type: 'dir', mode, uid: 0, gid: 0, size: 0 };
}

export function bufferMember(name: string, body: Buffer): TarMember {
  return { name, type: 'file', mode: 0o644, uid: 0, gid: 0, ...bodyOf(body) };
}

export async function* tarStream(members: TarMember[]): AsyncGenerator<Buffer> {
  for (const member of members) {
    yield* headerBlocks(member);
    if (member.body) {
      yield member.body;
    } else if (member.file) {
      let seen = 0;
      for await (const chunk of createReadStream(member.file, { highWaterMark: 1 << 20 })) {
        seen += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (seen !== member.size) throw new Error(`${member.file} changed size while being archived`);
    }
    const pad = (BLOCK - (member.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

const TYPEFLAG = { file: '0', dir: '5', symlink: '2', pax: 'x' } as const;

function headerBlocks(member: TarMember): Buffer[] {
  const pax: Record<string, string> = {};
  if (!fitsUstar(member.name, 100)) pax.path = member.name;
  if (member.linkname !== undefined && !fitsUstar(member.linkname, 100)) pax.linkpath = member.linkname;
  const blocks: Buffer[] = [];
  if (Object.keys(pax).length > 0) {
    const records = Buffer.concat(Object.entries(pax).map(([key, value]) => paxRecord(key, value)));
    const paxName = `PaxHeaders/${member.name.replace(/\/$/, '').split('/').pop()!}`.slice(0, 99);
    blocks.push(
      ustarHeader({ name: asciiName(paxName), type: 'pax', mode: 0o644, uid: 0, gid: 0, size: records.length }),
      records,
    );
    const pad = (BLOCK - (records.length % BLOCK)) % BLOCK;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(
    ustarHeader({
      name: pax.path ? asciiName(member.name).slice(0, 99) : member.name,
      type: member.type,
      mode: member.mode,
      uid: member.uid,
      gid: member.gid,
      size: member.type === 'file' ? member.size : 0,
      linkname: pax.linkpath ? asciiName(member.linkname!).slice(0, 99) : member.linkname,
    }),
  );
  return blocks;
}

/** The fallback name written in a ustar field when the real one travels in a PAX record. */
function asciiName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_');
}

function fitsUstar(value: string, length: number): boolean {
  return /^[\x20-\x7e]*$/.test(value) && Buffer.byteLength(value) <= length;
}

/** "<len> key=value\n", where len counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest);
  let length = restBytes + 1;
  while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
  return Buffer.from(`${length}${rest}`);
}

function ustarHeader(h: {
  name: string;
  type: keyof typeof TYPEFLAG;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(h.name, 0, 100, 'utf8');
  writeOctal(block, h.mode, 100, 8);
  writeOctal(block, h.uid, 108, 8);
  writeOctal(block, h.gid, 116, 8);
  writeOctal(block, h.size, 124, 12);
  writeOctal(block, 0, 136, 12); // mtime 0: reproducible
  block.write(TYPEFLAG[h.type], 156, 1, 'ascii');
  if (h.linkname) block.write(h.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  writeOctal(block, 0, 329, 8); // devmajor
  writeOctal(block, 0, 337, 8); // devminor
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  const digits = value.toString(8);
  if (!Number.isSafeInteger(value) || value < 0 || digits.length > length - 1) {
    throw new Error(`tar header field at ${offset} cannot hold ${value}`);
  }
  block.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}
