import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { zipSync } from 'fflate';

import { BoundedCache } from '../../activities/packageCache.js';
import { NetworkPackageCache, type PackageSourceSettings } from '../../activities/networkPackages.js';
import type { KubeClients } from '../../k8s/client.js';
import type { SymbolNodeSpec } from '../../k8s/symbolNode.js';
import { loadNetworkPackageFromZip } from '../../symbol/networkPackage.js';
import { saiPackageZip } from '../support/paths.js';
import { serveBytes, startPackageServer, type PackageServer, type Route } from '../support/packageServer.js';

const saiZip = new Uint8Array(readFileSync(saiPackageZip));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The sai package with one more file, so that each variant is a distinct package of about the same size. */
function variant(name: string): Uint8Array {
  const files = Object.fromEntries(loadNetworkPackageFromZip(saiZip).files);
  return zipSync({ ...files, [`extra/${name}`]: new TextEncoder().encode(name) });
}

void describe('a cache bounded in bytes', () => {
  void it('drops the least recently used entries once over the bound, and never keeps a failed load', async () => {
    const cache = new BoundedCache<string>(10, (value) => value.length);
    let loads = 0;
    const load = (value: string) => () => {
      loads += 1;
      return Promise.resolve(value);
    };
    await cache.get('a', load('aaaa'));
    await cache.get('b', load('bbbb'));
    await cache.get('a', load('aaaa')); // a is now the most recent
    await cache.get('c', load('cccc'));
    assert.deepEqual(cache.keys(), ['a', 'c']);
    assert.equal(cache.bytes, 8);
    assert.equal(loads, 3);

    await assert.rejects(cache.get('d', () => Promise.reject(new Error('down'))));
    assert.deepEqual(cache.keys(), ['a', 'c']);
    assert.equal(await cache.get('huge', load('x'.repeat(11))), 'x'.repeat(11), 'served but not kept');
    assert.deepEqual(cache.keys(), ['a', 'c']);
  });

  void it('shares a load in flight between callers', async () => {
    const cache = new BoundedCache<string>(100, (value) => value.length);
    let loads = 0;
    const slow = () => {
      loads += 1;
      return new Promise<string>((resolve) => setTimeout(() => resolve('v'), 10));
    };
    assert.deepEqual(await Promise.all([cache.get('k', slow), cache.get('k', slow)]), ['v', 'v']);
    assert.equal(loads, 1);
  });
});

void describe("the operator's network package cache", () => {
  const packages = ['one', 'two', 'three'].map((name) => ({ name, zip: variant(name) }));
  let server: PackageServer;
  before(async () => {
    const routes: Record<string, Route> = { '/sai.zip': serveBytes(saiZip) };
    for (const { name, zip } of packages) routes[`/${name}.zip`] = serveBytes(zip);
    server = await startPackageServer(routes);
  });
  after(() => server.close());

  // The kube clients are only used for ConfigMap sources, which these tests do not use.
  const noKube = undefined as unknown as KubeClients;
  const local: Partial<PackageSourceSettings> = { allowedHosts: ['127.0.0.1'], allowHttp: true };
  const spec = (url: string, hex: string): SymbolNodeSpec =>
    ({ network: 'custom', networkPackage: { url, sha256: hex } }) as unknown as SymbolNodeSpec;
  const extractedBytes = (zip: Uint8Array): number =>
    [...loadNetworkPackageFromZip(zip).files.values()].reduce((sum, data) => sum + data.byteLength, 0);

  void it('holds at most its bound: the least recently used package is downloaded again', async () => {
    const size = Math.max(...packages.map(({ zip }) => extractedBytes(zip)));
    const cache = new NetworkPackageCache(noKube, {}, { ...local, cacheMaxBytes: Math.floor(size * 2.5) });
    const load = (index: number) => {
      const { name, zip } = packages[index]!;
      return cache.load('ns', spec(`${server.origin}/${name}.zip`, sha256(zip)));
    };
    const requested = (name: string) => server.requests.filter((path) => path === `/${name}.zip`).length;
    await load(0);
    await load(1);
    await load(0);
    assert.equal(requested('one'), 1, 'a cached package is not downloaded again');
    await load(2); // over the bound: two, the least recently used, goes
    assert.ok(cache.cachedBytes <= size * 2.5, `${cache.cachedBytes} bytes held`);
    await load(0);
    assert.equal(requested('one'), 1);
    await load(1);
    assert.equal(requested('two'), 2, 'the evicted package was downloaded again');
  });

  void it('names neither the digest of what a URL served nor the query of the URL', async () => {
    const cache = new NetworkPackageCache(noKube, {}, local);
    const wrong = sha256(new Uint8Array([1]));
    await assert.rejects(cache.load('ns', spec(`${server.origin}/sai.zip?sig=t0ken`, wrong)), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.deepEqual(error.details, ['ChecksumMismatch']);
      assert.equal(error.nonRetryable, true);
      assert.ok(!error.message.includes(sha256(saiZip)), error.message);
      assert.ok(!error.message.includes('t0ken'), error.message);
      assert.match(error.message, new RegExp(`is not the expected ${wrong}`));
      return true;
    });
  });

  void it('refuses a URL the settings do not allow, as a permanent SourceRefused', async () => {
    const cache = new NetworkPackageCache(noKube, {}, {});
    await assert.rejects(cache.load('ns', spec(`${server.origin}/sai.zip`, sha256(saiZip))), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.deepEqual(error.details, ['SourceRefused']);
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /^SourceRefused: http:\/\/127\.0\.0\.1:\d+\/sai\.zip: plain http is not allowed/);
      return true;
    });
    const unavailable = new NetworkPackageCache(noKube, {}, local);
    await assert.rejects(
      unavailable.load('ns', spec(`${server.origin}/gone.zip`, sha256(saiZip))),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.deepEqual(error.details, ['SourceUnavailable']);
        assert.equal(error.nonRetryable, false, 'a source that may come back is retried');
        return true;
      },
    );
  });

  void it("fetches a preset from the admin's mirror URL on a private address, still pinned", async () => {
    const cache = new NetworkPackageCache(noKube, { sai: `http://localhost:${server.port}/sai.zip` }, {});
    const pkg = await cache.load('ns', { network: 'sai' } as unknown as SymbolNodeSpec);
    assert.ok(pkg.has('seed/index.dat'));
  });
});
