import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { PrivateKeySecret, addressOf } from '../../symbol/keys.js';
import { loadNetworkPackageFromZip } from '../../symbol/networkPackage.js';
import {
  CONTAINER_PATHS,
  NodeConfigError,
  type NodeSettings,
  SECRET_CONFIG_FILES,
  buildNodeConfig,
  configFilesForRole,
  formatPeersFile,
} from '../../symbol/nodeConfig.js';
import { PropertiesDocument, PropertiesError } from '../../symbol/properties.js';
import { saiPackageZip } from '../support/paths.js';

const pkg = loadNetworkPackageFromZip(new Uint8Array(readFileSync(saiPackageZip)));
const base: NodeSettings = {
  role: 'peer',
  harvester: false,
  voter: false,
  host: 'node-1.example.org',
  friendlyName: 'node-1',
};

function text(files: Map<string, string | Uint8Array>, path: string): string {
  const value = files.get(path);
  assert.equal(typeof value, 'string', `${path} present`);
  return value as string;
}

/** Every key whose value differs between the package template and the generated file. */
function changes(files: Map<string, string | Uint8Array>, path: string): Record<string, string> {
  const before = pkg.properties(path);
  const after = PropertiesDocument.parse(text(files, path));
  const diff: Record<string, string> = {};
  for (const section of after.sections()) {
    for (const [key, value] of after.entries(section)!) {
      if (before.get(section, key) !== value) diff[`${section}.${key}`] = value;
    }
  }
  return diff;
}

function harvesting() {
  return { signingKey: PrivateKeySecret.generate(), vrfKey: PrivateKeySecret.generate() };
}

void describe('node configuration per role', () => {
  void it('produces exactly the declared file set for each role', () => {
    for (const role of ['peer', 'light-api', 'full-api'] as const) {
      for (const harvester of [false, true]) {
        const files = buildNodeConfig(pkg, {
          ...base,
          role,
          harvester,
          ...(harvester ? { harvesting: harvesting() } : {}),
        });
        assert.deepEqual([...files.keys()], configFilesForRole(role, { harvester }), `${role} harvester=${harvester}`);
      }
    }
  });

  void it('uses only files the package provides, and leaves untouched ones byte-identical', () => {
    const files = buildNodeConfig(pkg, { ...base, role: 'full-api' });
    for (const [path, content] of files) {
      if (!path.endsWith('.properties')) continue;
      const template = pkg.text(path);
      if (Object.keys(changes(files, path)).length === 0) assert.equal(content, template, path);
    }
    assert.equal(text(files, 'resources/config-network.properties'), pkg.text('resources/config-network.properties'));
    assert.equal(
      text(files, 'resources/config-inflation.properties'),
      pkg.text('resources/config-inflation.properties'),
    );
  });

  void it('peer: disables harvesting, allows address reuse and sets the node identity, nothing else', () => {
    const files = buildNodeConfig(pkg, base);
    assert.equal(pkg.properties('resources/config-node.properties').get('node', 'enableAddressReuse'), 'false');
    assert.deepEqual(changes(files, 'resources/config-node.properties'), {
      // deviation 7: a server restarted in place must bind 7900 again despite TIME-WAIT connections
      'node.enableAddressReuse': 'true',
      'localnode.host': 'node-1.example.org',
      'localnode.friendlyName': 'node-1',
    });
    assert.deepEqual(changes(files, 'resources/config-extensions-server.properties'), {
      'extensions.extension.harvesting': 'false',
    });
    assert.deepEqual(changes(files, 'resources/config-extensions-recovery.properties'), {});
    assert.equal(files.has('rest.json'), false);
  });

  void it('dual: full API extensions, Peer,Api roles, loopback MongoDB', () => {
    const files = buildNodeConfig(pkg, { ...base, role: 'full-api' });
    const node = PropertiesDocument.parse(text(files, 'resources/config-node.properties'));
    assert.equal(node.get('localnode', 'roles'), 'Peer,Api');
    assert.equal(node.get('node', 'enableAutoSyncCleanup'), 'false');
    assert.equal(node.get('node', 'trustedHosts'), '127.0.0.1');
    assert.deepEqual(changes(files, 'resources/config-extensions-server.properties'), {
      'extensions.extension.filespooling': 'true',
      'extensions.extension.partialtransaction': 'true',
      'extensions.extension.harvesting': 'false',
    });
    assert.deepEqual(changes(files, 'resources/config-extensions-recovery.properties'), {
      'extensions.extension.addressextraction': 'true',
      'extensions.extension.mongo': 'true',
      'extensions.extension.zeromq': 'true',
    });
    assert.equal(
      PropertiesDocument.parse(text(files, 'resources/config-database.properties')).get('database', 'databaseUri'),
      'mongodb://127.0.0.1:27017',
    );
    const rest = JSON.parse(text(files, 'rest.json')) as {
      apiNode: Record<string, string>;
      db: { url: string };
      websocket: { mq: { host: string } };
    };
    assert.equal(rest.apiNode.host, '127.0.0.1');
    assert.equal(rest.db.url, 'mongodb://127.0.0.1:27017/');
    assert.equal(rest.websocket.mq.host, '127.0.0.1');
    // REST must find the certificates where the pod mounts them
    for (const key of ['tlsClientCertificatePath', 'tlsClientKeyPath', 'tlsCaCertificatePath'])
      assert.ok(rest.apiNode[key]!.startsWith(`${CONTAINER_PATHS.certificates}/`));
  });

  void it('api (light REST): light rest.json, roles stay Peer, no broker files', () => {
    const files = buildNodeConfig(pkg, { ...base, role: 'light-api' });
    const rest = JSON.parse(text(files, 'rest.json')) as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(rest).sort(),
      Object.keys(JSON.parse(pkg.text('rest/rest-light.json')) as object).sort(),
    );
    assert.equal(
      PropertiesDocument.parse(text(files, 'resources/config-node.properties')).get('localnode', 'roles'),
      'Peer',
    );
    assert.equal(files.has('resources/config-database.properties'), false);
  });

  void it('voter appends Voting and enables finalization voting', () => {
    const files = buildNodeConfig(pkg, { ...base, role: 'full-api', voter: true });
    assert.equal(
      PropertiesDocument.parse(text(files, 'resources/config-node.properties')).get('localnode', 'roles'),
      'Peer,Api,Voting',
    );
    assert.deepEqual(changes(files, 'resources/config-finalization.properties'), {
      'finalization.enableVoting': 'true',
      'finalization.unfinalizedBlocksDuration': '0m',
    });
  });

  void it('harvester: keys in config-harvesting.properties, which is flagged secret', () => {
    const keys = harvesting();
    const beneficiary = addressOf(PrivateKeySecret.generate().publicKey, 'sai');
    const files = buildNodeConfig(pkg, {
      ...base,
      harvester: true,
      harvesting: { ...keys, beneficiaryAddress: beneficiary, maxUnlockedAccounts: 5 },
    });
    const path = 'resources/config-harvesting.properties';
    assert.deepEqual(changes(files, path), {
      'harvesting.enableAutoHarvesting': 'true',
      'harvesting.harvesterSigningPrivateKey': keys.signingKey.revealHex(),
      'harvesting.harvesterVrfPrivateKey': keys.vrfKey.revealHex(),
      'harvesting.beneficiaryAddress': beneficiary,
      'harvesting.maxUnlockedAccounts': '5',
    });
    assert.ok(SECRET_CONFIG_FILES.has(path));
    assert.deepEqual(
      changes(files, 'resources/config-extensions-server.properties'),
      {},
      'harvesting extension stays on',
    );
    assert.throws(() => buildNodeConfig(pkg, { ...base, harvester: true }), NodeConfigError);
    assert.throws(
      () =>
        buildNodeConfig(pkg, { ...base, harvester: true, harvesting: { ...keys, beneficiaryAddress: 'NOTANADDRESS' } }),
      NodeConfigError,
    );
    const mainnetAddress = addressOf(keys.signingKey.publicKey, 'mainnet');
    assert.throws(
      () =>
        buildNodeConfig(pkg, { ...base, harvester: true, harvesting: { ...keys, beneficiaryAddress: mainnetAddress } }),
      NodeConfigError,
    );
  });

  void it('pins config-user.properties paths to the container layout', () => {
    const user = PropertiesDocument.parse(text(buildNodeConfig(pkg, base), 'resources/config-user.properties'));
    assert.deepEqual(Object.fromEntries(user.entries('storage')!), {
      seedDirectory: CONTAINER_PATHS.seed,
      certificateDirectory: CONTAINER_PATHS.certificates,
      dataDirectory: CONTAINER_PATHS.data,
      pluginsDirectory: CONTAINER_PATHS.plugins,
      votingKeysDirectory: CONTAINER_PATHS.votingKeys,
    });
  });
});

void describe('node configuration inputs', () => {
  void it('rejects hosts and names that would inject configuration', () => {
    for (const host of ['evil\n[node]\nport = 1', 'a b', 'host;rm -rf', '', '-leading.example.org']) {
      assert.throws(() => buildNodeConfig(pkg, { ...base, host }), NodeConfigError, JSON.stringify(host));
    }
    assert.throws(
      () => buildNodeConfig(pkg, { ...base, friendlyName: 'x\nroles = Api' }),
      (error: unknown) => error instanceof PropertiesError && error.reason === 'InvalidValue',
    );
    assert.throws(() => buildNodeConfig(pkg, { ...base, friendlyName: 'x'.repeat(256) }), NodeConfigError);
    for (const host of ['192.0.2.10', '2001:db8::1', 'node.example.org']) buildNodeConfig(pkg, { ...base, host });
  });

  void it('applies overrides last and refuses unknown keys', () => {
    const files = buildNodeConfig(pkg, {
      ...base,
      overrides: [
        { file: 'node', section: 'node', key: 'minFeeMultiplier', value: 50 },
        {
          file: 'config-user.properties',
          section: 'account',
          key: 'enableDelegatedHarvestersAutoDetection',
          value: false,
        },
      ],
    });
    assert.equal(
      PropertiesDocument.parse(text(files, 'resources/config-node.properties')).get('node', 'minFeeMultiplier'),
      '50',
    );
    assert.equal(
      PropertiesDocument.parse(text(files, 'resources/config-user.properties')).get(
        'account',
        'enableDelegatedHarvestersAutoDetection',
      ),
      'false',
    );
    assert.throws(
      () =>
        buildNodeConfig(pkg, {
          ...base,
          overrides: [{ file: 'node', section: 'node', key: 'minFeeMultipler', value: 50 }],
        }),
      (error: unknown) => error instanceof PropertiesError && error.reason === 'UnknownKey',
    );
    assert.throws(
      () =>
        buildNodeConfig(pkg, {
          ...base,
          overrides: [{ file: 'database', section: 'database', key: 'databaseUri', value: 'x' }],
        }),
      NodeConfigError,
    );
  });

  void it('merges REST overrides like shoestring --rest-overrides', () => {
    const files = buildNodeConfig(pkg, {
      ...base,
      role: 'full-api',
      restOverrides: { nodeMetadata: { operator: 'k8s' }, throttling: { burst: 1 } },
    });
    const rest = JSON.parse(text(files, 'rest.json')) as {
      nodeMetadata: Record<string, string>;
      throttling: Record<string, number>;
    };
    assert.equal(rest.nodeMetadata.operator, 'k8s');
    assert.ok('_info' in rest.nodeMetadata, 'objects merge instead of being replaced');
    assert.deepEqual(rest.throttling, { burst: 1, rate: 60 });
    const polluting = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.throws(() => buildNodeConfig(pkg, { ...base, role: 'full-api', restOverrides: polluting }), NodeConfigError);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  void it('does not leak edits between calls on the same package', () => {
    buildNodeConfig(pkg, { ...base, role: 'full-api', voter: true, friendlyName: 'first' });
    const second = buildNodeConfig(pkg, base);
    assert.deepEqual(changes(second, 'resources/config-finalization.properties'), {});
    assert.equal(
      PropertiesDocument.parse(text(second, 'resources/config-node.properties')).get('localnode', 'friendlyName'),
      'node-1',
    );
  });
});

void describe('peer lists', () => {
  const peers = [
    {
      publicKey: 'B'.repeat(64),
      endpoint: { host: 'b.example.org', port: 7900 },
      metadata: { name: 'b', roles: 'Peer' },
    },
    {
      publicKey: 'A'.repeat(64),
      endpoint: { host: 'a.example.org', port: 7900, api_port: 3001 },
      metadata: { name: 'ä ✓', roles: 'Peer,Api' },
    },
  ];

  void it('writes the empty lists shoestring would write', () => {
    const files = buildNodeConfig(pkg, { ...base, role: 'full-api' });
    for (const kind of ['p2p', 'api']) {
      const parsed = JSON.parse(text(files, `resources/peers-${kind}.json`)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), ['knownPeers', '_info']);
      assert.deepEqual(parsed.knownPeers, []);
      assert.equal(parsed._info, `this file contains a list of ${kind} peers and can be shared`);
    }
  });

  void it('sorts by public key, keeps entry shape and escapes non-ASCII like Python json', () => {
    const content = formatPeersFile('p2p', peers);
    const parsed = JSON.parse(content) as { knownPeers: typeof peers };
    assert.deepEqual(
      parsed.knownPeers.map((peer) => peer.publicKey),
      ['A'.repeat(64), 'B'.repeat(64)],
    );
    assert.equal(parsed.knownPeers[0]!.metadata.name, 'ä ✓');
    assert.ok(/^[\x20-\x7e\n]*$/.test(content), 'ASCII only');
    assert.ok(content.includes('"name": "\\u00e4 \\u2713"'));
    assert.ok(!('api_port' in parsed.knownPeers[1]!.endpoint));
    assert.throws(() => formatPeersFile('p2p', [{ ...peers[0]!, publicKey: 'nothex' }]), NodeConfigError);
  });
});
