/**
 * Which IP addresses a download on behalf of a SymbolNode's spec may connect to: public unicast only. Everything a
 * namespace editor could use to reach the operator's own surroundings is refused — loopback, the cluster's private
 * ranges, link-local (cloud metadata at 169.254.169.254), unspecified, multicast, reserved, documentation ranges,
 * and the IPv6 forms that embed one of those IPv4 addresses (mapped, compatible, NAT64, 6to4).
 */
import { isIPv4, isIPv6 } from 'node:net';

type Range = readonly [prefix: readonly number[], bits: number];

const V4_REFUSED: readonly Range[] = [
  [[0], 8], // "this network", unspecified
  [[10], 8],
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8],
  [[169, 254], 16], // link-local, cloud metadata
  [[172, 16], 12],
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // documentation
  [[192, 88, 99], 24], // 6to4 relay anycast
  [[192, 168], 16],
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24],
  [[203, 0, 113], 24],
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

const V6_REFUSED: readonly Range[] = [
  [[], 96], // unspecified, loopback, IPv4-compatible (the mapped and embedded forms are checked as IPv4)
  [[0x01, 0x00], 64], // discard-only
  [[0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  [[0xfc], 7], // unique local
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
];

function inRange(bytes: readonly number[], [prefix, bits]: Range): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((prefix[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** 16 bytes of an IPv6 address in any textual form (`::`, embedded dotted quad, zone index). */
function v6Bytes(address: string): number[] {
  const [text = ''] = address.split('%');
  const [head = '', tail] = text.split('::');
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const words: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(group);
        words.push((a << 8) | b, (c << 8) | d);
      } else {
        words.push(parseInt(group, 16));
      }
    }
    return words;
  };
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const words = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}

/** The IPv4 address an IPv6 address stands for (mapped, NAT64 well-known prefix, 6to4), if any. */
function embeddedV4(bytes: readonly number[]): number[] | undefined {
  if (inRange(bytes, [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96])) return bytes.slice(12);
  if (inRange(bytes, [[0x00, 0x64, 0xff, 0x9b], 96])) return bytes.slice(12);
  if (inRange(bytes, [[0x20, 0x02], 16])) return bytes.slice(2, 6);
  return undefined;
}

/** True for an IP address a spec's download may connect to; false for any non-public or malformed one. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(bare)) return !V4_REFUSED.some((range) => inRange(v4Bytes(bare), range));
  if (!isIPv6(bare)) return false;
  const bytes = v6Bytes(bare);
  const v4 = embeddedV4(bytes);
  if (v4) return !V4_REFUSED.some((range) => inRange(v4, range));
  return !V6_REFUSED.some((range) => inRange(bytes, range));
}
