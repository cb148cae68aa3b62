/**
 * Downloads a network package zip for the operator under a source policy. A SymbolNode's `spec.networkPackage.url`
 * is chosen by whoever may edit SymbolNodes in a namespace, so the operator must not become their way into its own
 * network: only allowed hosts, https unless plain http is allowed, and for hosts the admin did not name one by one
 * only public addresses — checked on the address actually connected to (the lookup that the connection uses is the
 * one that checks, so a second DNS answer cannot swap it), again at every redirect. Errors tell what was refused or
 * that the download failed, never what the server answered beyond the class of its status: no body, no headers, no
 * redirect target.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

import { NetworkPackageError } from './packageError.js';
import { isPublicAddress } from './publicAddress.js';

export interface PackageSourcePolicy {
  /**
   * `*` any host with a public address; `*.example.org` its subdomains, public addresses only; anything else names
   * one host (DNS name or IP literal), which is then allowed whatever its address, private ones included.
   */
  readonly allowedHosts: readonly string[];
  readonly allowHttp: boolean;
  readonly maxBytes: number;
  /** For the whole download, redirects included. */
  readonly timeoutMs: number;
}

/** What the admin configured (preset mirrors): any host, any address, http too; the size cap and timeout stay. */
export function trustedSourcePolicy(limits: Pick<PackageSourcePolicy, 'maxBytes' | 'timeoutMs'>): TrustedPolicy {
  return { ...limits, trusted: true };
}
interface TrustedPolicy extends Pick<PackageSourcePolicy, 'maxBytes' | 'timeoutMs'> {
  readonly trusted: true;
}

export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type HostVerdict = 'named' | 'publicOnly' | 'refused';

/** URL hosts as the WHATWG parser writes them: lower case, IPv6 in brackets. */
function normaliseHost(host: string): string {
  const lower = host.toLowerCase().replace(/\.$/, '');
  return isIP(lower) === 6 ? new URL(`http://[${lower}]/`).hostname : lower;
}

export function hostVerdict(hostname: string, allowedHosts: readonly string[]): HostVerdict {
  const host = normaliseHost(hostname);
  let verdict: HostVerdict = 'refused';
  for (const raw of allowedHosts) {
    const entry = raw.startsWith('*') ? raw.toLowerCase() : normaliseHost(raw.replace(/^\[?(.*?)\]?$/, '$1'));
    if (entry === host) return 'named';
    if (entry === '*' || (entry.startsWith('*.') && host.endsWith(entry.slice(1)))) verdict = 'publicOnly';
  }
  return verdict;
}

/** The URL for messages: no credentials, no query (a signed URL's token is a credential too). */
export function describeSource(url: URL | string): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the network package URL';
  }
}

function refused(source: string, why: string): NetworkPackageError {
  return new NetworkPackageError('SourceRefused', `${source}: ${why}`);
}

function unavailable(source: string, why: string): NetworkPackageError {
  return new NetworkPackageError('SourceUnavailable', `${source} could not be downloaded: ${why}`);
}

class AddressRefused extends Error {}

/** A DNS lookup that fails unless every address of the name is public; the connection then uses those addresses. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    if (addresses.length === 0 || addresses.some(({ address }) => !isPublicAddress(address)))
      return callback(new AddressRefused(), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses as [LookupAddress];
    return callback(null, first.address, first.family);
  });
};

/** Checks a location against the policy before connecting; returns whether its addresses must be public. */
function admit(url: URL, policy: PackageSourcePolicy | TrustedPolicy, source: string): boolean {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refused(source, 'only http(s) URLs are fetched');
  if ('trusted' in policy) return false;
  if (url.protocol === 'http:' && !policy.allowHttp)
    throw refused(source, 'plain http is not allowed (the operator setting SNO_NETWORK_PACKAGE_ALLOW_HTTP)');
  const verdict = hostVerdict(url.hostname, policy.allowedHosts);
  if (verdict === 'refused')
    throw refused(source, `host ${url.hostname} is not in the operator setting SNO_NETWORK_PACKAGE_ALLOWED_HOSTS`);
  if (verdict === 'named') return false;
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal) && !isPublicAddress(literal)) throw refused(source, nonPublic(url.hostname));
  return true;
}

const nonPublic = (host: string): string =>
  `host ${host} has a private, loopback, link-local or other non-public address; only a host named in the ` +
  `operator setting SNO_NETWORK_PACKAGE_ALLOWED_HOSTS may`;

function get(url: URL, publicOnly: boolean, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: 'GET',
      agent: false,
      signal,
      headers: { accept: 'application/zip, application/octet-stream, */*' },
      ...(publicOnly ? { lookup: publicOnlyLookup } : {}),
    });
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
    outgoing.end();
  });
}

async function readBody(response: IncomingMessage, maxBytes: number, source: string): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length'] ?? '0');
  if (declared > maxBytes) {
    response.destroy();
    throw new NetworkPackageError('TooLarge', `${source} is larger than the limit of ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // leaving the loop by throwing destroys the stream, and with it the connection
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes)
      throw new NetworkPackageError('TooLarge', `${source} is larger than the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * GETs the zip at `location` under `policy`, following up to {@link MAX_REDIRECTS} redirects, each checked like the
 * first location. Throws `SourceRefused` (the policy forbids it: fixed by another URL or the admin's settings),
 * `SourceUnavailable` (network, timeout, a non-2xx answer: may pass) or `TooLarge`.
 */
export async function downloadPackage(
  location: string,
  policy: PackageSourcePolicy | TrustedPolicy,
): Promise<Uint8Array> {
  const source = describeSource(location);
  const signal = AbortSignal.timeout(policy.timeoutMs);
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw refused(source, 'not a valid URL');
  }
  for (let redirects = 0; ; redirects += 1) {
    let publicOnly: boolean;
    try {
      publicOnly = admit(url, policy, source);
    } catch (error) {
      // Where a redirect pointed is part of the answer: it is not told.
      if (redirects > 0 && error instanceof NetworkPackageError)
        throw refused(source, 'it redirects to a location the operator does not fetch from');
      throw error;
    }
    let response: IncomingMessage;
    try {
      response = await get(url, publicOnly, signal);
    } catch (error) {
      if (error instanceof AddressRefused) {
        throw redirects > 0
          ? refused(source, 'it redirects to a location the operator does not fetch from')
          : refused(source, nonPublic(url.hostname));
      }
      throw unavailable(source, signal.aborted ? `no answer within ${policy.timeoutMs} ms` : 'no connection');
    }
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status) && response.headers.location) {
      response.destroy();
      if (redirects >= MAX_REDIRECTS) throw unavailable(source, `more than ${MAX_REDIRECTS} redirects`);
      try {
        url = new URL(response.headers.location, url);
      } catch {
        throw unavailable(source, 'a redirect without a valid location');
      }
      continue;
    }
    if (status < 200 || status > 299) {
      response.destroy();
      throw unavailable(source, `HTTP status ${Math.floor(status / 100)}xx`);
    }
    try {
      return await readBody(response, policy.maxBytes, source);
    } catch (error) {
      if (error instanceof NetworkPackageError) throw error;
      throw unavailable(source, signal.aborted ? `no answer within ${policy.timeoutMs} ms` : 'the answer broke off');
    }
  }
}
