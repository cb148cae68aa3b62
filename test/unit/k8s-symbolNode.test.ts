import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';

import {
  hostNameProblem,
  isIpAddress,
  labelValueProblem,
  qualifiedNameProblem,
  NODE_NAME_MAX_LENGTH,
  nodeNameProblem,
  parseSymbolNode,
  quantityToNumber,
  type ParseResult,
} from '../../k8s/symbolNode.js';
import { sampleInvalidCases, sampleValidSpecs } from '../support/invalidSpecs.js';
import { repoRoot } from '../support/paths.js';
import { API_IMAGES, resource } from './k8s-fixtures.js';

function failed(result: ParseResult): Extract<ParseResult, { ok: false }> {
  if (result.ok) assert.fail(`expected a parse failure, got ${JSON.stringify(result.node.spec)}`);
  return result;
}

function parseSpec(spec: Record<string, unknown>, name?: string): ParseResult {
  return parseSymbolNode(resource(spec, name));
}

void describe('parseSymbolNode: valid input', () => {
  void it('applies the defaults of the CRD', () => {
    const result = parseSpec({});
    assert.ok(result.ok);
    const { spec } = result.node;
    assert.equal(spec.role, 'peer');
    assert.equal(spec.harvester, false);
    assert.equal(spec.voter, false);
    assert.equal(spec.hostPort, false);
    assert.equal(spec.paused, false);
    assert.equal(spec.dataRetentionPolicy, 'Retain');
    assert.equal(result.node.metadata.uid, 'uid-of-node-a');
    assert.equal(result.node.metadata.generation, 3);
  });

  void it('normalises integer quantities to strings', () => {
    const result = parseSpec({
      volumeSize: 21474836480,
      resources: { requests: { cpu: 2 }, limits: { memory: '8Gi' } },
    });
    assert.ok(result.ok);
    assert.equal(result.node.spec.volumeSize, '21474836480');
    assert.deepEqual(result.node.spec.resources?.requests, { cpu: '2' });
  });

  void it('accepts every sample manifest', () => {
    const dir = join(repoRoot, 'k8s/manifests/samples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 2);
    for (const file of files) {
      const obj = loadYaml<Record<string, unknown> & { metadata: Record<string, unknown> }>(
        readFileSync(join(dir, file), 'utf8'),
      );
      const result = parseSymbolNode({ ...obj, metadata: { ...obj.metadata, uid: 'u' } });
      assert.ok(result.ok, `${file}: ${result.ok ? '' : result.message}`);
    }
  });

  void it('accepts host names and IP addresses', () => {
    for (const host of [
      'node.example.org',
      'Node-1.Example.ORG',
      'localhost',
      '203.0.113.7',
      '2001:db8::1',
      '::1',
      'a'.repeat(63),
    ]) {
      assert.ok(parseSpec({ hostName: host }).ok, host);
    }
  });

  void it('accepts a friendly name in any script', () => {
    for (const name of ['my node', '日本のノード', 'nœud №1', 'x'])
      assert.ok(parseSpec({ friendlyName: name }).ok, name);
  });
});

void describe('parseSymbolNode: precise failures', () => {
  void it('names an unknown network', () => {
    const r = failed(parseSpec({ network: 'testnet' }));
    assert.equal(r.reason, 'UnknownNetwork');
    assert.match(r.message, /^spec\.network: "testnet" is not a known network/);
    assert.match(r.message, /mainnet, sai, custom/);
  });

  void it('rejects malformed host names with the field and the value', () => {
    const bad = [
      'a..b',
      'a;rm -rf /',
      '$(reboot)',
      'x\nhost = evil.example',
      'x\r\nfriendlyName = y',
      'host name',
      '-a.b',
      'a-.b',
      'a.b.',
      '999.1.1.1',
      '1.2.3',
      '1::2::3',
      'fe80::1%eth0',
      '::ffff:1.2.3.4',
      '::ffff:102:304',
      'a'.repeat(64),
      `${'a.'.repeat(127)}ab`,
    ];
    for (const host of bad) {
      const r = failed(parseSpec({ hostName: host }));
      assert.equal(r.reason, 'InvalidHostName', host);
      assert.ok(r.message.startsWith(`spec.hostName: ${JSON.stringify(host).slice(0, 20)}`), r.message);
      assert.ok(!r.message.includes('\n'), 'control characters are escaped in the message');
    }
    assert.equal(
      failed(parseSpec({ hostName: 'a..b' })).message,
      'spec.hostName: "a..b" is not a valid DNS name or IP address',
    );
  });

  void it('rejects a friendly name that would break the properties file', () => {
    for (const name of ['a\nb', 'a\rb', 'tab\there', ' lead', 'trail ', 'nul\u0000', 'line\u2028sep', 'x'.repeat(64)]) {
      const r = failed(parseSpec({ friendlyName: name }));
      assert.equal(r.reason, 'InvalidFriendlyName', JSON.stringify(name));
      assert.match(r.message, /^spec\.friendlyName: /);
    }
  });

  void it('rejects bad quantities', () => {
    for (const volumeSize of ['10Gb', '10 Gi', '-5Gi', '1e3', 'lots', '']) {
      const r = failed(parseSpec({ volumeSize }));
      assert.equal(r.reason, 'InvalidQuantity', volumeSize);
      assert.match(r.message, /^spec\.volumeSize: .* is not a valid quantity/);
    }
    assert.equal(failed(parseSpec({ volumeSize: '512Mi' })).reason, 'InvalidQuantity');
    assert.match(failed(parseSpec({ volumeSize: true })).message, /spec\.volumeSize: must be a quantity/);
    const cpu = failed(parseSpec({ resources: { requests: { cpu: 'two' } } }));
    assert.equal(cpu.reason, 'InvalidResources');
    assert.match(cpu.message, /spec\.resources\.requests\.cpu: "two" is not a valid quantity/);
  });

  void it('reports conflicting and missing fields', () => {
    const harvestingApi = failed(parseSpec({ role: 'api', ...API_IMAGES, harvester: true }));
    assert.equal(harvestingApi.reason, 'ConflictingFields');
    assert.match(harvestingApi.message, /spec\.harvester: .*role "dual"/);

    const custom = failed(parseSpec({ network: 'custom' }));
    assert.equal(custom.reason, 'MissingNetworkPackage');
    assert.match(custom.message, /^spec\.networkPackage: is required when network is "custom"/);

    const both = failed(
      parseSpec({
        network: 'custom',
        networkPackage: { url: 'https://x.org/p.zip', sha256: 'a'.repeat(64), configMapRef: { name: 'p' } },
      }),
    );
    assert.equal(both.reason, 'ConflictingFields');
    assert.match(both.message, /spec\.networkPackage: set exactly one of url or configMapRef/);

    const noSha = failed(parseSpec({ network: 'custom', networkPackage: { url: 'https://x.org/p.zip' } }));
    assert.equal(noSha.reason, 'MissingField');
    assert.match(noSha.message, /spec\.networkPackage\.sha256: is required/);

    const noImages = failed(parseSpec({ role: 'dual' }));
    assert.equal(noImages.reason, 'MissingField');
    assert.deepEqual(
      noImages.issues.map((i) => i.path),
      ['spec.restImage', 'spec.mongoImage'],
    );

    const requestOverLimit = failed(
      parseSpec({ resources: { requests: { memory: '8Gi' }, limits: { memory: '4Gi' } } }),
    );
    assert.equal(requestOverLimit.reason, 'InvalidResources');
    assert.match(requestOverLimit.message, /spec\.resources\.requests\.memory: "8Gi" must not exceed/);
  });

  void it('takes starting peers with the defaults of the CRD, and rejects what catapult could not read', () => {
    const key = 'ab'.repeat(32);
    const ok = parseSpec({ peers: { p2p: [{ publicKey: key, host: 'seed.example.org' }] } });
    assert.ok(ok.ok);
    assert.deepEqual(ok.node.spec.peers, {
      p2p: [{ publicKey: key, host: 'seed.example.org', port: 7900, name: '', roles: 'Peer' }],
    });
    const full = parseSpec({
      role: 'dual',
      ...API_IMAGES,
      peers: {
        p2p: [],
        api: [{ publicKey: key.toUpperCase(), host: '2001:db8::7', port: 7901, apiPort: 3001, roles: 'Peer,Api' }],
      },
    });
    assert.ok(full.ok, full.ok ? '' : full.message);

    const bad = failed(
      parseSpec({
        peers: {
          p2p: [
            { publicKey: 'xyz', host: 'seed.example.org' },
            { publicKey: key, host: 'seed..example.org' },
            { publicKey: key, host: 'seed.example.org', port: 70000 },
            { publicKey: key, host: 'seed.example.org', roles: 'Peer,Harvester' },
            { publicKey: key, host: 'seed.example.org', extra: 1 },
          ],
        },
      }),
    );
    const byPath = Object.fromEntries(bad.issues.map((i) => [i.path, i]));
    assert.match(byPath['spec.peers.p2p[0].publicKey']?.message ?? '', /is not a public key \(64 hex digits\)/);
    assert.equal(byPath['spec.peers.p2p[1].host']?.reason, 'InvalidHostName');
    assert.match(byPath['spec.peers.p2p[2].port']?.message ?? '', /70000 is not a TCP port/);
    assert.match(byPath['spec.peers.p2p[3].roles']?.message ?? '', /Peer, Api, Voting, IPv4, IPv6/);
    assert.equal(byPath['spec.peers.p2p[4].extra']?.reason, 'UnknownField');

    const apiOnPeer = failed(parseSpec({ peers: { api: [{ publicKey: key, host: 'a.example.org' }] } }));
    assert.equal(apiOnPeer.reason, 'ConflictingFields');
    assert.match(apiOnPeer.message, /^spec\.peers\.api: is written only for roles api and dual/);
    const tooMany = failed(parseSpec({ peers: { p2p: Array(65).fill({ publicKey: key, host: 'a.example.org' }) } }));
    assert.match(tooMany.message, /spec\.peers\.p2p: must have at most 64 entries/);
  });

  void it('reports required and unknown fields and wrong types', () => {
    const r = failed(parseSymbolNode({ ...resource({}), spec: { network: 'sai', replicas: 3, harvester: 'yes' } }));
    const byPath = Object.fromEntries(r.issues.map((i) => [i.path, i]));
    assert.equal(byPath['spec.image']?.reason, 'MissingField');
    assert.equal(byPath['spec.volumeSize']?.reason, 'MissingField');
    assert.equal(byPath['spec.replicas']?.reason, 'UnknownField', 'there is no replicas: a node is a singleton');
    assert.match(byPath['spec.harvester']?.message ?? '', /must be true or false, not a string/);
    assert.equal(failed(parseSymbolNode({ ...resource({}), spec: undefined })).reason, 'MissingField');
  });

  void it('rejects a bad image reference', () => {
    for (const image of ['symbolplatform/symbol-server', 'Symbol/Server:1', 'x:1 ; rm', 'x:\n1']) {
      const r = failed(parseSpec({ image }));
      assert.equal(r.reason, 'InvalidImage', image);
    }
  });

  void it('checks apiVersion, kind and metadata', () => {
    const wrongKind = failed(parseSymbolNode({ ...resource({}), kind: 'Pod' }));
    assert.equal(wrongKind.reason, 'InvalidObject');
    assert.match(wrongKind.message, /^kind: "Pod" is not "SymbolNode"/);
    const noUid = resource({});
    (noUid.metadata as Record<string, unknown>).uid = undefined;
    assert.match(failed(parseSymbolNode(noUid)).message, /metadata\.uid: is required/);
    assert.equal(failed(parseSymbolNode(null)).reason, 'InvalidObject');
  });

  void it('limits the SymbolNode name to what its StatefulSet can carry', () => {
    // controller-revision-hash = <name>-<FNV-32 hash, decimal, up to 10 characters>, a label value (<= 63)
    const longestHash = String(2 ** 32 - 1).length;
    const limit = 63 - 1 - longestHash;
    assert.equal(NODE_NAME_MAX_LENGTH, limit);
    assert.ok(parseSpec({}, 'a'.repeat(limit)).ok);
    const r = failed(parseSpec({}, 'a'.repeat(limit + 1)));
    assert.equal(r.reason, 'InvalidName');
    assert.match(r.message, /metadata\.name: .* at most 52 .*controller-revision-hash/);
    assert.equal(failed(parseSpec({}, '1node')).reason, 'InvalidName');
    assert.equal(failed(parseSpec({}, 'my.node')).reason, 'InvalidName');
    assert.match(nodeNameProblem('sai-headless') ?? '', /-headless/);
  });
});

void describe('value helpers', () => {
  void it('hostNameProblem and isIpAddress agree with each other', () => {
    assert.equal(isIpAddress('192.0.2.1'), true);
    assert.equal(isIpAddress('192.0.2.01'), false, 'leading zeros are refused, as by Go netip');
    assert.equal(isIpAddress('::ffff:c000:201'), false, 'IPv4-mapped');
    assert.equal(hostNameProblem('192.0.2.1'), undefined);
    assert.notEqual(hostNameProblem('192.0.2.01'), undefined);
  });

  void it('quantityToNumber understands binary, decimal and milli suffixes', () => {
    assert.equal(quantityToNumber('1Gi'), 1024 ** 3);
    assert.equal(quantityToNumber('1G'), 1e9);
    assert.equal(quantityToNumber('500m'), 0.5);
    assert.equal(quantityToNumber('1e3'), 1000);
    assert.equal(quantityToNumber(42), 42);
    assert.equal(quantityToNumber('1Gb'), undefined);
  });
});

void describe('generated invalid specs (test/support/invalidSpecs.ts): the operator refuses each as its oracle says', () => {
  // More runs than the integration test: the parser is fast. The operator must refuse what the CRD refuses too
  // (a cluster may run an older CRD), on the field the oracle names; what only the operator can see gets the
  // oracle's precise reason.
  const seed = 20261202;

  void it('accepts the valid bases the cases start from', () => {
    for (const spec of sampleValidSpecs(seed, 30)) {
      const result = parseSpec(spec);
      assert.ok(result.ok, `valid base refused: ${result.ok ? '' : result.message}`);
    }
  });

  void it('refuses every generated case on the field (admission) or with the reason (operator) the oracle names', () => {
    const cases = sampleInvalidCases(seed, 12);
    const kinds = new Set<string>();
    for (const c of cases) {
      kinds.add(c.kind.split(/[ [:]/)[0]!);
      const result = parseSpec(c.spec, c.name);
      if (c.verdict.at === 'operator' && c.verdict.reason === 'IdentitySecretNotFound') {
        // Only the operator's identity step can see that a Secret is missing; the spec itself is valid.
        assert.ok(result.ok, `${c.kind}: ${result.ok ? '' : result.message}`);
        continue;
      }
      const r = failed(result);
      if (c.verdict.at === 'admission') {
        const field = c.verdict.field;
        assert.ok(
          r.issues.some((i) => i.path.startsWith(field)),
          `${c.kind}: expected an issue on ${field}, got ${r.message}`,
        );
      } else {
        assert.equal(r.reason, c.verdict.reason, `${c.kind}: ${r.message}`);
        assert.ok(r.message.includes(c.verdict.says), `${c.kind}: ${r.message}`);
      }
    }
    assert.ok(cases.length >= 12 * 25, `${cases.length} cases`);
  });

  void it('gives the pod fields their own reasons', () => {
    const reason = (spec: Record<string, unknown>) => failed(parseSpec(spec)).reason;
    assert.equal(reason({ tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }), 'InvalidTolerations');
    assert.equal(reason({ tolerations: [{ key: 'k', tolerationSeconds: 5 }] }), 'InvalidTolerations');
    assert.equal(reason({ nodeSelector: { zone: 'x'.repeat(64) } }), 'InvalidNodeSelector');
    assert.equal(reason({ nodeSelector: { 'a/b/c': 'x' } }), 'InvalidNodeSelector');
    assert.equal(reason({ podAnnotations: { 'a b': 'x' } }), 'InvalidPodAnnotations');
    assert.equal(reason({ resources: { limits: { 'nvidia.com/gpu': 1 } } }), 'InvalidResources');
    // Annotation keys are checked lower-cased, as the API server does; label keys are not.
    assert.ok(parseSpec({ podAnnotations: { 'Example.COM/Note': 'x' } }).ok);
    assert.ok(
      parseSpec({ tolerations: [{ operator: 'Exists' }, { key: 'k', effect: 'NoExecute', tolerationSeconds: 0 }] }).ok,
    );
    assert.match(qualifiedNameProblem(`${'a'.repeat(254)}/x`) ?? '', /prefix has 254 characters/);
    assert.equal(qualifiedNameProblem(`${'a'.repeat(253)}/x`), undefined);
    assert.match(qualifiedNameProblem('x'.repeat(64)) ?? '', /name part has 64 characters/);
    assert.equal(labelValueProblem(''), undefined);
  });
});
