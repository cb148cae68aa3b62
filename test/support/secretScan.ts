/**
 * The search of the final secret scan: which private keys occur in a text, in any of the forms a leak would take
 * (hex in either case, base64 or base64url of the raw 32 bytes, the PEM body), and the texts inside a Temporal
 * history event (strings, payloads decoded with the default data converter, byte arrays as hex).
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { RecordedKey } from './secretLedger.js';

export interface Finding {
  source: string;
  key: RecordedKey;
  form: string;
}

const b64 = (raw: Buffer, url: boolean) => raw.toString(url ? 'base64url' : 'base64').replace(/=+$/, '');

/** Every key, indexed by each form it could leak in. */
export class KeyIndex {
  private readonly hex = new Map<string, RecordedKey>();
  private readonly text = new Map<string, { key: RecordedKey; form: string }>();
  private readonly lengths = new Set<number>();
  readonly size: number;

  constructor(keys: readonly RecordedKey[]) {
    for (const key of keys) {
      this.hex.set(key.hex.toLowerCase(), key);
      const raw = Buffer.from(key.hex, 'hex');
      this.add(b64(raw, false), key, 'base64');
      this.add(b64(raw, true), key, 'base64url');
      if (key.pem !== undefined) this.add(key.pem.replace(/=+$/, ''), key, 'pem');
    }
    this.size = new Set(keys.map((k) => k.hex)).size;
  }

  private add(needle: string, key: RecordedKey, form: string): void {
    // base64 and base64url are the same text when the key's has no '+' or '/': keep the first name.
    if (!this.text.has(needle)) this.text.set(needle, { key, form });
    this.lengths.add(needle.length);
  }

  /** Each key found in `text`, once per form. Windows are searched inside longer runs (keys inside bigger blobs). */
  find(text: string): Array<{ key: RecordedKey; form: string }> {
    const found = new Map<string, { key: RecordedKey; form: string }>();
    for (const m of text.matchAll(/[0-9A-Fa-f]{64,}/g)) {
      const run = m[0].toLowerCase();
      for (let i = 0; i + 64 <= run.length; i++) {
        const key = this.hex.get(run.slice(i, i + 64));
        if (key) found.set(`${key.hex}/hex`, { key, form: 'hex' });
      }
    }
    const shortest = Math.min(...this.lengths);
    if (Number.isFinite(shortest)) {
      for (const m of text.matchAll(new RegExp(`[A-Za-z0-9+/_-]{${shortest},}`, 'g'))) {
        const run = m[0];
        for (const length of this.lengths) {
          for (let i = 0; i + length <= run.length; i++) {
            const hit = this.text.get(run.slice(i, i + length));
            if (hit) found.set(`${hit.key.hex}/${hit.form}`, hit);
          }
        }
      }
    }
    return [...found.values()];
  }
}

const isByteArray = (v: unknown[]): v is number[] =>
  v.length >= 32 && v.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255);

/** `{"0": 12, "1": 200, ...}`: a Uint8Array after JSON.stringify. */
function byteObject(v: Record<string, unknown>): number[] | undefined {
  const keys = Object.keys(v);
  if (keys.length < 32 || !keys.every((k, i) => k === String(i))) return undefined;
  const values = Object.values(v);
  return isByteArray(values) ? values : undefined;
}

function isPayload(v: Record<string, unknown>): v is Record<string, unknown> & Payload {
  const metadata = v.metadata as Record<string, unknown> | undefined | null;
  return metadata != null && metadata.encoding instanceof Uint8Array;
}

export interface WalkCounts {
  payloads: number;
  undecodable: number;
}

/**
 * Every text inside a value (a history event): strings; byte arrays as UTF-8 and as hex; payloads also decoded
 * with the default payload converter (json/plain, binary/plain, json/protobuf, binary/null) and walked again.
 */
export function textsOf(value: unknown, counts: WalkCounts, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) {
    out.push(Buffer.from(value).toString('utf8'));
    if (value.length >= 32) out.push(Buffer.from(value).toString('hex'));
  } else if (Array.isArray(value)) {
    if (isByteArray(value)) out.push(Buffer.from(value).toString('hex'));
    else for (const v of value) textsOf(v, counts, out);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const bytes = byteObject(record);
    if (bytes) {
      out.push(Buffer.from(bytes).toString('hex'));
      return out;
    }
    if (isPayload(record)) {
      counts.payloads++;
      try {
        textsOf(defaultPayloadConverter.fromPayload(record), counts, out);
      } catch {
        counts.undecodable++;
      }
    }
    for (const v of Object.values(record)) textsOf(v, counts, out);
  }
  return out;
}
