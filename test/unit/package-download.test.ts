import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { NetworkPackageError } from '../../symbol/networkPackage.js';
import {
  downloadPackage,
  hostVerdict,
  MAX_REDIRECTS,
  trustedSourcePolicy,
  type PackageSourcePolicy,
} from '../../symbol/packageDownload.js';
import { isPublicAddress } from '../../symbol/publicAddress.js';
import { saiPackageZip } from '../support/paths.js';
import { redirectTo, serveBytes, startPackageServer, type PackageServer } from '../support/packageServer.js';

const saiZip = new Uint8Array(readFileSync(saiPackageZip));
const SECRET = 'internal-secret-7f3a';

/** What the tests' operators run with: the local package server and nothing else. */
const local: PackageSourcePolicy = {
  allowedHosts: ['127.0.0.1'],
  allowHttp: true,
  maxBytes: 1024 * 1024,
  timeoutMs: 10_000,
};

function rejectsWith(reason: NetworkPackageError['reason'], message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof NetworkPackageError, `expected NetworkPackageError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    assert.ok(!error.message.includes(SECRET), `reveals the response: ${error.message}`);
    return true;
  };
}

void describe('public addresses', () => {
  void it('refuses every non-public IPv4 range and accepts public unicast', () => {
    const refused = [
      '0.0.0.0',
      '10.1.2.3',
      '100.64.0.1',
      '127.0.0.1',
      '127.255.255.254',
      '169.254.169.254',
      '172.16.0.1',
      '172.31.255.255',
      '192.0.0.8',
      '192.0.2.1',
      '192.168.1.1',
      '198.18.0.1',
      '224.0.0.251',
      '239.255.255.250',
      '255.255.255.255',
    ];
    for (const address of refused) assert.equal(isPublicAddress(address), false, address);
    for (const address of ['1.1.1.1', '8.8.8.8', '140.82.121.4', '172.32.0.1', '100.128.0.1', '11.0.0.1'])
      assert.equal(isPublicAddress(address), true, address);
  });

  void it('refuses non-public IPv6, including IPv4 addresses in IPv6 clothing', () => {
    const refused = [
      '::',
      '::1',
      '[::1]',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'fe80::1%eth0',
      'ff02::1',
      '2001:db8::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '::127.0.0.1',
      '64:ff9b::10.0.0.1',
      '2002:c0a8:0101::1',
      'not-an-address',
      '999.1.1.1',
    ];
    for (const address of refused) assert.equal(isPublicAddress(address), false, address);
    for (const address of ['2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])
      assert.equal(isPublicAddress(address), true, address);
  });

  void it('reads the allowlist: * public only, *.domain public only, a named host whatever its address', () => {
    assert.equal(hostVerdict('example.org', ['*']), 'publicOnly');
    assert.equal(hostVerdict('mirror.example.org', ['*.example.org']), 'publicOnly');
    assert.equal(hostVerdict('example.org', ['*.example.org']), 'refused');
    assert.equal(hostVerdict('evil-example.org', ['*.example.org']), 'refused');
    assert.equal(hostVerdict('Mirror.Internal.', ['*', 'mirror.internal']), 'named');
    assert.equal(hostVerdict('127.0.0.1', ['127.0.0.1']), 'named');
    assert.equal(hostVerdict('[::1]', ['::1']), 'named');
    assert.equal(hostVerdict('[::1]', ['[0:0::1]']), 'named');
    assert.equal(hostVerdict('localhost', ['127.0.0.1']), 'refused');
  });
});

void describe('downloading a package under the source policy', () => {
  let server: PackageServer;
  before(async () => {
    server = await startPackageServer({
      '/sai.zip': serveBytes(saiZip),
      '/to-sai': redirectTo('/sai.zip', 301),
      '/redirect-name': (_request, response) =>
        response.writeHead(302, { location: `http://localhost:${server.port}/sai.zip` }).end(),
      '/redirect-metadata': redirectTo('http://169.254.169.254/latest/meta-data/'),
      '/redirect-v6': (_request, response) =>
        response.writeHead(307, { location: `http://[::1]:${server.port}/sai.zip` }).end(),
      '/redirect-file': redirectTo('file:///etc/passwd'),
      '/loop': redirectTo('/loop'),
      '/secret-404': (_request, response) =>
        response.writeHead(404, SECRET, { 'x-detail': SECRET }).end(`<html>${SECRET}</html>`),
      '/secret-500': (_request, response) => response.writeHead(503, { 'retry-after': SECRET }).end(SECRET),
      '/declared-huge': (_request, response) =>
        response.writeHead(200, { 'content-length': String(64 * 1024 * 1024) }).end(),
      '/endless': (_request, response) => {
        response.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (response.write(chunk));
        };
        response.on('drain', pump);
        pump();
      },
      '/silent': () => undefined,
    });
  });
  after(() => server.close());

  void it('downloads from an allowed host and follows a redirect on it', async () => {
    assert.deepEqual(await downloadPackage(`${server.origin}/sai.zip`, local), saiZip);
    assert.deepEqual(await downloadPackage(`${server.origin}/to-sai`, local), saiZip);
  });

  void it('refuses plain http unless allowed, hosts not in the list, and schemes other than http(s)', async () => {
    await assert.rejects(
      downloadPackage(`${server.origin}/sai.zip`, { ...local, allowHttp: false }),
      rejectsWith('SourceRefused', /plain http is not allowed/),
    );
    await assert.rejects(
      downloadPackage(`${server.origin}/sai.zip`, { ...local, allowedHosts: ['mirror.example.org'] }),
      rejectsWith('SourceRefused', /host 127\.0\.0\.1 is not in .*SNO_NETWORK_PACKAGE_ALLOWED_HOSTS/),
    );
    await assert.rejects(downloadPackage('file:///etc/passwd', local), rejectsWith('SourceRefused', /only http/));
    assert.deepEqual(server.requests.filter((path) => path === '/sai.zip').length, 2, 'no request was made');
  });

  void it('refuses private addresses of hosts not named one by one: literal, resolved, or IPv4-mapped', async () => {
    const anyPublic = { ...local, allowedHosts: ['*'] };
    const before = server.requests.length;
    await assert.rejects(
      downloadPackage(`${server.origin}/sai.zip`, anyPublic),
      rejectsWith('SourceRefused', /host 127\.0\.0\.1 has a private, loopback, link-local/),
    );
    // localhost is a name: its resolved address is what is checked, by the lookup the connection uses
    await assert.rejects(
      downloadPackage(`http://localhost:${server.port}/sai.zip`, { ...local, allowedHosts: ['*', '*.localhost'] }),
      rejectsWith('SourceRefused', /host localhost has a private/),
    );
    await assert.rejects(
      downloadPackage(`http://[::ffff:127.0.0.1]:${server.port}/sai.zip`, anyPublic),
      rejectsWith('SourceRefused', /non-public address/),
    );
    // other spellings of 127.0.0.1 (decimal, hex) are normalised by the URL parser before any check
    for (const host of ['2130706433', '0x7f.0.0.1', '127.1'])
      await assert.rejects(
        downloadPackage(`http://${host}:${server.port}/sai.zip`, anyPublic),
        rejectsWith('SourceRefused', /host 127\.0\.0\.1 has a private/),
      );
    assert.equal(server.requests.length, before, 'nothing reached the server');
  });

  void it('checks every redirect: to a private address, by name or literal, is refused without saying where', async () => {
    for (const path of ['/redirect-name', '/redirect-metadata', '/redirect-v6', '/redirect-file']) {
      await assert.rejects(
        downloadPackage(`${server.origin}${path}`, { ...local, allowedHosts: ['127.0.0.1', '*'] }),
        (error: unknown) => {
          rejectsWith('SourceRefused', /redirects to a location the operator does not fetch from/)(error);
          const { message } = error as Error;
          for (const target of ['localhost', '169.254', '::1', 'passwd']) assert.ok(!message.includes(target), message);
          return true;
        },
      );
    }
    const served = server.requests.filter((path) => path === '/sai.zip').length;
    await assert.rejects(downloadPackage(`${server.origin}/redirect-name`, local), rejectsWith('SourceRefused'));
    assert.equal(server.requests.filter((path) => path === '/sai.zip').length, served, 'the target was never asked');
    // the same redirect is followed when the admin names the target host
    assert.deepEqual(
      await downloadPackage(`${server.origin}/redirect-name`, { ...local, allowedHosts: ['127.0.0.1', 'localhost'] }),
      saiZip,
    );
  });

  void it('stops after a few redirects', async () => {
    const before = server.requests.length;
    await assert.rejects(
      downloadPackage(`${server.origin}/loop`, local),
      rejectsWith('SourceUnavailable', new RegExp(`more than ${MAX_REDIRECTS} redirects`)),
    );
    assert.equal(server.requests.length - before, MAX_REDIRECTS + 1);
  });

  void it('reports a failed answer by its status class only: no body, headers, status text or code', async () => {
    await assert.rejects(
      downloadPackage(`${server.origin}/secret-404`, local),
      rejectsWith('SourceUnavailable', /could not be downloaded: HTTP status 4xx$/),
    );
    await assert.rejects(
      downloadPackage(`${server.origin}/secret-500?token=${SECRET}`, local),
      rejectsWith('SourceUnavailable', /could not be downloaded: HTTP status 5xx$/),
    );
    await assert.rejects(
      downloadPackage(`http://user:${SECRET}@127.0.0.1:${server.port}/secret-404`, local),
      rejectsWith('SourceUnavailable'),
    );
  });

  void it('enforces the size cap on the declared length and while streaming', async () => {
    await assert.rejects(
      downloadPackage(`${server.origin}/declared-huge`, local),
      rejectsWith('TooLarge', /larger than the limit of 1048576 bytes/),
    );
    await assert.rejects(downloadPackage(`${server.origin}/endless`, local), rejectsWith('TooLarge'));
    await assert.rejects(
      downloadPackage(`${server.origin}/sai.zip`, { ...local, maxBytes: 1000 }),
      rejectsWith('TooLarge'),
    );
  });

  void it('gives up on a server that does not answer within the timeout', async () => {
    await assert.rejects(
      downloadPackage(`${server.origin}/silent`, { ...local, timeoutMs: 200 }),
      rejectsWith('SourceUnavailable', /no answer within 200 ms/),
    );
  });

  void it("trusts the admin's own locations: any address and plain http, limits still apply", async () => {
    const trusted = trustedSourcePolicy({ maxBytes: local.maxBytes, timeoutMs: local.timeoutMs });
    assert.deepEqual(await downloadPackage(`http://localhost:${server.port}/sai.zip`, trusted), saiZip);
    assert.deepEqual(await downloadPackage(`${server.origin}/redirect-name`, trusted), saiZip);
    await assert.rejects(downloadPackage(`${server.origin}/endless`, trusted), rejectsWith('TooLarge'));
  });
});
