import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { loadOperatorConfig, Redacted } from '../../worker/config.js';
import {
  connectWhenReachable,
  describeTemporalConnection,
  temporalConnectOptions,
} from '../../worker/temporalConnection.js';

describe('operator configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'worker-config-test-'));
    await writeFile(join(dir, 'tls.crt'), 'CERT');
    await writeFile(join(dir, 'tls.key'), 'KEY');
    await writeFile(join(dir, 'ca.crt'), 'CA');
    await writeFile(join(dir, 'api-key'), 'file-secret-key\n');
    await writeFile(join(dir, 'empty'), '\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('defaults: plaintext Temporal, no API key, no CRD install, health on 0.0.0.0:8081', async () => {
    const config = loadOperatorConfig({});
    assert.equal(config.installCrds, false);
    assert.equal(config.healthPort, 8081);
    assert.equal(config.healthAddress, '0.0.0.0');
    assert.equal(config.temporalApiKey, undefined);
    assert.equal(config.temporalTls.enabled, false);
    assert.deepEqual(await temporalConnectOptions(config), { address: '127.0.0.1:7233' });
    assert.equal(describeTemporalConnection(config), '127.0.0.1:7233');
  });

  it('reads SNO_INSTALL_CRDS and the health settings, refusing other values in one line', () => {
    assert.equal(loadOperatorConfig({ SNO_INSTALL_CRDS: 'true' }).installCrds, true);
    assert.equal(loadOperatorConfig({ SNO_INSTALL_CRDS: 'false' }).installCrds, false);
    assert.throws(
      () => loadOperatorConfig({ SNO_INSTALL_CRDS: 'yes' }),
      /^Error: invalid operator configuration: installCrds: /,
    );
    const health = loadOperatorConfig({ SNO_HEALTH_PORT: '9000', SNO_HEALTH_ADDRESS: '127.0.0.1' });
    assert.deepEqual([health.healthPort, health.healthAddress], [9000, '127.0.0.1']);
    assert.throws(() => loadOperatorConfig({ SNO_HEALTH_PORT: '70000' }), /healthPort/);
    assert.equal(loadOperatorConfig({}).temporalLogLevel, 'WARN');
    assert.equal(loadOperatorConfig({ SNO_TEMPORAL_LOG_LEVEL: 'info' }).temporalLogLevel, 'INFO');
    assert.throws(() => loadOperatorConfig({ SNO_TEMPORAL_LOG_LEVEL: 'loud' }), /temporalLogLevel/);
  });

  it('reads the network package source settings apart from the preset locations under the same prefix', () => {
    const defaults = loadOperatorConfig({}).networkPackageSources;
    assert.deepEqual(defaults, {
      allowedHosts: ['*'],
      allowHttp: false,
      maxBytes: 64 * 1024 * 1024,
      timeoutMs: 120_000,
      cacheMaxBytes: 128 * 1024 * 1024,
    });
    const config = loadOperatorConfig({
      SNO_NETWORK_PACKAGE_SAI: '/packages/sai.zip',
      SNO_NETWORK_PACKAGE_ALLOWED_HOSTS: ' *, Mirror.Internal ,*.example.org, 10.0.0.7, [fd00::1] ',
      SNO_NETWORK_PACKAGE_ALLOW_HTTP: 'true',
      SNO_NETWORK_PACKAGE_MAX_BYTES: '1000000',
      SNO_NETWORK_PACKAGE_TIMEOUT_MS: '30000',
      SNO_NETWORK_PACKAGE_CACHE_BYTES: '0',
    });
    assert.deepEqual(config.networkPackageOverrides, { sai: '/packages/sai.zip' });
    assert.deepEqual(config.networkPackageSources, {
      allowedHosts: ['*', 'mirror.internal', '*.example.org', '10.0.0.7', '[fd00::1]'],
      allowHttp: true,
      maxBytes: 1_000_000,
      timeoutMs: 30_000,
      cacheMaxBytes: 0,
    });
    const refused: [NodeJS.ProcessEnv, RegExp][] = [
      [{ SNO_NETWORK_PACKAGE_ALLOWED_HOSTS: 'https://mirror.internal' }, /allowedHosts\.0: expected \*, \*\.<domain>/],
      [{ SNO_NETWORK_PACKAGE_ALLOWED_HOSTS: ' , ' }, /allowedHosts/],
      [{ SNO_NETWORK_PACKAGE_ALLOW_HTTP: 'yes' }, /allowHttp/],
      [{ SNO_NETWORK_PACKAGE_MAX_BYTES: '-1' }, /maxBytes/],
      [{ SNO_NETWORK_PACKAGE_TIMEOUT_MS: 'soon' }, /timeoutMs/],
    ];
    for (const [env, message] of refused) assert.throws(() => loadOperatorConfig(env), message);
  });

  it('builds mTLS connection options from the certificate files', async () => {
    const config = loadOperatorConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: join(dir, 'tls.crt'),
      TEMPORAL_TLS_KEY: join(dir, 'tls.key'),
      TEMPORAL_TLS_CA: join(dir, 'ca.crt'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = await temporalConnectOptions(config);
    assert.equal(options.address, 'ns.acct.tmprl.cloud:7233');
    assert.equal(options.apiKey, undefined);
    assert.equal(options.tls?.serverNameOverride, 'temporal.internal');
    assert.equal(Buffer.from(options.tls.serverRootCACertificate!).toString(), 'CA');
    assert.equal(Buffer.from(options.tls.clientCertPair!.crt).toString(), 'CERT');
    assert.equal(Buffer.from(options.tls.clientCertPair!.key).toString(), 'KEY');
    assert.equal(describeTemporalConnection(config), 'ns.acct.tmprl.cloud:7233, mTLS');
  });

  it('turns TLS on for TEMPORAL_TLS=true or an API key alone, with the system CAs', async () => {
    assert.deepEqual(await temporalConnectOptions(loadOperatorConfig({ TEMPORAL_TLS: 'true' })), {
      address: '127.0.0.1:7233',
      tls: {},
    });
    const keyed = loadOperatorConfig({ TEMPORAL_API_KEY: ' inline-secret-key ' });
    assert.deepEqual(await temporalConnectOptions(keyed), {
      address: '127.0.0.1:7233',
      tls: {},
      apiKey: 'inline-secret-key',
    });
    assert.equal(describeTemporalConnection(keyed), '127.0.0.1:7233, TLS, API key');
  });

  it('reads the API key from TEMPORAL_API_KEY_FILE and never prints it', async () => {
    const config = loadOperatorConfig({ TEMPORAL_API_KEY_FILE: join(dir, 'api-key') });
    assert.equal((await temporalConnectOptions(config)).apiKey, 'file-secret-key');
    const printed = [
      String(config.temporalApiKey),
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      `${config.temporalApiKey?.toString()}`,
    ];
    for (const text of printed) assert.ok(!text.includes('file-secret-key'), `leaked in: ${text}`);
    assert.ok(JSON.stringify(config).includes('[redacted]'));
    assert.equal(new Redacted('x').reveal(), 'x');
  });

  it('refuses contradictory or unreadable TLS and API key settings in one line', async () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ TEMPORAL_TLS_CERT: join(dir, 'tls.crt') }, /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/],
      [{ TEMPORAL_TLS_KEY: join(dir, 'tls.key') }, /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/],
      [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: join(dir, 'ca.crt') }, /TEMPORAL_TLS=false contradicts/],
      [{ TEMPORAL_TLS: 'on' }, /temporalTls\.enabled/],
      [{ TEMPORAL_API_KEY: 'a', TEMPORAL_API_KEY_FILE: join(dir, 'api-key') }, /not both/],
      [{ TEMPORAL_API_KEY_FILE: join(dir, 'missing') }, /cannot read TEMPORAL_API_KEY_FILE .*missing \(ENOENT\)/],
      [{ TEMPORAL_API_KEY_FILE: join(dir, 'empty') }, /TEMPORAL_API_KEY_FILE .*empty is empty/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadOperatorConfig(env),
        (error: Error) => {
          assert.match(error.message, message);
          assert.ok(!error.message.includes('\n'), 'one line');
          return true;
        },
      );
    }
    const missingCert = loadOperatorConfig({
      TEMPORAL_TLS_CERT: join(dir, 'nope.crt'),
      TEMPORAL_TLS_KEY: join(dir, 'tls.key'),
    });
    await assert.rejects(temporalConnectOptions(missingCert), /cannot read TEMPORAL_TLS_CERT .*nope\.crt \(ENOENT\)/);
  });

  it('waits out an unreachable Temporal with growing pauses, and stops waiting when aborted', async () => {
    const delays: number[] = [];
    let calls = 0;
    const connected = await connectWhenReachable(
      () => {
        calls += 1;
        return calls < 4 ? Promise.reject(new Error('connection refused')) : Promise.resolve('connected');
      },
      { initialDelayMs: 5, maxDelayMs: 12, onRetry: (_error, _attempt, delayMs) => delays.push(delayMs) },
    );
    assert.equal(connected, 'connected');
    assert.deepEqual(delays, [5, 10, 12]);

    // Aborted while pausing between attempts, and before the pause begins: either way it ends at once.
    for (const abortAt of ['pause', 'retry'] as const) {
      const abort = new AbortController();
      const started = Date.now();
      const waiting = connectWhenReachable(() => Promise.reject(new Error('refused')), {
        initialDelayMs: 60_000,
        signal: abort.signal,
        onRetry: () => {
          if (abortAt === 'retry') abort.abort(new Error('stopping'));
          else setTimeout(() => abort.abort(new Error('stopping')), 20);
        },
      });
      await assert.rejects(waiting, /stopping/);
      assert.ok(Date.now() - started < 5000, `aborted at ${abortAt} without waiting out the pause`);
    }
  });
});
