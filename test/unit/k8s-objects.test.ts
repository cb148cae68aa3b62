import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { V1Container, V1ObjectMeta } from '@kubernetes/client-node';

import { createHash } from 'node:crypto';
import {
  ANNOTATION_PACKAGE_SHA256,
  apiCatapultStartScript,
  buildNetworkPackageConfigMap,
  buildRecoveryJob,
  NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES,
  NETWORK_PACKAGE_CONFIGMAP_PREFIX,
  networkPackageConfigMapName,
  PEER_SERVER_START_SCRIPT,
  buildCertificatesSecret,
  buildHarvestingSecret,
  buildHeadlessService,
  buildIdentitySecret,
  buildMongoScriptsConfigMap,
  buildResourcesConfigMap,
  buildRestConfigMap,
  buildService,
  buildStatefulSet,
  BuildError,
  checkBuildContext,
  CERTIFICATE_FILES,
  configHash,
  CONTAINERS,
  InvalidNameError,
  objectNames,
  resolveSeedPackage,
  type BuiltInPackages,
  type CertificateFiles,
  type SeedPackageSource,
} from '../../k8s/objects/index.js';
import {
  ANNOTATION_CONFIG_HASH,
  API_VERSION,
  KIND,
  LABEL_INSTANCE,
  type ParsedSymbolNode,
} from '../../k8s/symbolNode.js';
import { NETWORK_PACKAGE_PRESETS, type PinnedChecksum } from '../../symbol/networkPackage.js';
import { saiPackageDir, saiPackageZip } from '../support/paths.js';
import {
  allContainers,
  API_IMAGES,
  container,
  context,
  MONGO_IMAGE,
  OPERATOR_IMAGE,
  parsed,
  podSpec,
  REST_IMAGE,
  ROLES_FIXTURES,
  SERVER_IMAGE,
} from './k8s-fixtures.js';

const saiResources = Object.fromEntries(
  readdirSync(join(saiPackageDir, 'resources')).map((f) => [
    f,
    readFileSync(join(saiPackageDir, 'resources', f), 'utf8'),
  ]),
);
const saiMongo = Object.fromEntries(
  readdirSync(join(saiPackageDir, 'mongo')).map((f) => [f, readFileSync(join(saiPackageDir, 'mongo', f), 'utf8')]),
);
const saiRestJson = readFileSync(join(saiPackageDir, 'rest', 'rest.json'), 'utf8');
const pem = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
const certificates: CertificateFiles = {
  'ca.pubkey.pem': pem('PUBLIC KEY'),
  'ca.crt.pem': pem('CERTIFICATE'),
  'node.key.pem': pem('PRIVATE KEY'),
  'node.crt.pem': pem('CERTIFICATE'),
  'node.full.crt.pem': pem('CERTIFICATE') + pem('CERTIFICATE'),
};

const names = (cs: V1Container[] | undefined) => (cs ?? []).map((c) => c.name);
const isSidecar = (c: V1Container) => c.restartPolicy === 'Always';

/** Every object built for a node, in all roles' variants. */
function everything(node: ParsedSymbolNode) {
  const objects: Array<{ kind?: string; metadata?: V1ObjectMeta }> = [
    buildStatefulSet(node, context()),
    buildService(node),
    buildHeadlessService(node),
    buildResourcesConfigMap(node, node.spec.harvester ? { 'config-node.properties': 'x' } : saiResources),
    buildCertificatesSecret(node, certificates),
  ];
  if (node.spec.role !== 'peer')
    objects.push(buildRestConfigMap(node, saiRestJson), buildMongoScriptsConfigMap(node, saiMongo));
  if (node.spec.harvester) objects.push(buildHarvestingSecret(node, 'harvesterSigningPrivateKey = 00\n'));
  if (node.spec.identitySecretRef === undefined) objects.push(buildIdentitySecret(node, 'ab'.repeat(32)));
  return objects.map((o) => ({ ...o, kind: o.kind ?? '(no kind)' }));
}

void describe('object names', () => {
  void it('derives every name from the SymbolNode name within its kind limit', () => {
    const longest = 'n'.repeat(52);
    const n = objectNames(longest);
    assert.equal(n.statefulSet, longest);
    assert.equal(n.pod, `${longest}-0`);
    assert.ok(n.pod.length <= 63, 'pod name is a DNS label (also its host name)');
    assert.ok(n.headlessService.length <= 63, 'Service names are DNS labels');
    // worst case controller-revision-hash label value: <sts>-<10 characters>
    assert.ok(`${n.statefulSet}-${'9'.repeat(String(2 ** 32 - 1).length)}`.length <= 63);
    assert.equal(n.dataVolumeClaim, `data-${longest}-0`);
  });

  void it('fails with a clear error when a name cannot work', () => {
    assert.throws(
      () => objectNames('n'.repeat(53)),
      (e: unknown) => e instanceof InvalidNameError && /52.*controller-revision-hash/.test(e.message),
    );
    assert.throws(
      () => objectNames('9lives'),
      (e: unknown) => e instanceof InvalidNameError && /DNS-1035/.test(e.message),
    );
    assert.throws(() => objectNames('x-headless'), InvalidNameError);
    assert.throws(() => objectNames(''), InvalidNameError);
  });

  void it('never gives two SymbolNodes the same object name', () => {
    const nodes = [
      'a',
      'a-rest',
      'a-resources',
      'a-mongo',
      'a-identity',
      'a-certificates',
      'a-harvesting',
      'a-0',
      'data-a',
      'a-data',
    ];
    const seen = new Map<string, string>();
    for (const nodeName of nodes) {
      const n = objectNames(nodeName);
      const byKind = {
        Service: [n.service, n.headlessService],
        ConfigMap: [n.resourcesConfigMap, n.restConfigMap, n.mongoScriptsConfigMap],
        Secret: [n.certificatesSecret, n.identitySecret, n.harvestingSecret],
        StatefulSet: [n.statefulSet],
        Pod: [n.pod],
        PersistentVolumeClaim: [n.dataVolumeClaim],
      };
      for (const [kind, list] of Object.entries(byKind)) {
        for (const name of list) {
          const key = `${kind}/${name}`;
          assert.ok(!seen.has(key) || seen.get(key) === nodeName, `${key} is used by ${seen.get(key)} and ${nodeName}`);
          seen.set(key, nodeName);
        }
      }
    }
  });
});

void describe('owner references and namespaces', () => {
  for (const [role, spec] of Object.entries(ROLES_FIXTURES)) {
    void it(`every ${role} object is in the node's namespace and owned by it (key material per retention policy)`, () => {
      for (const policy of ['Retain', 'Delete'] as const) {
        const node = parsed({ ...spec, dataRetentionPolicy: policy, ...(role === 'dual' ? { harvester: true } : {}) });
        for (const obj of everything(node)) {
          assert.equal(obj.metadata?.namespace, node.metadata.namespace, obj.kind);
          assert.equal(obj.metadata?.labels?.[LABEL_INSTANCE], node.metadata.name);
          const refs = obj.metadata?.ownerReferences ?? [];
          const keyMaterial = obj.kind === 'Secret';
          if (keyMaterial && policy === 'Retain') {
            assert.equal(refs.length, 0, `${obj.metadata?.name} must survive the SymbolNode under Retain`);
            continue;
          }
          assert.equal(refs.length, 1, `${obj.kind} ${obj.metadata?.name}`);
          assert.deepEqual(refs[0], {
            apiVersion: API_VERSION,
            kind: KIND,
            name: node.metadata.name,
            uid: node.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          });
        }
      }
    });
  }
});

void describe('StatefulSet', () => {
  void it('runs exactly one replica with a governing headless Service and ordered, rolling updates', () => {
    const node = parsed();
    const sts = buildStatefulSet(node, context());
    assert.equal(sts.spec?.replicas, 1);
    assert.equal(sts.spec?.serviceName, buildHeadlessService(node).metadata?.name);
    assert.equal(sts.spec?.podManagementPolicy, 'OrderedReady');
    assert.equal(sts.spec?.updateStrategy?.type, 'RollingUpdate');
    assert.deepEqual(sts.spec?.selector.matchLabels, buildService(node).spec?.selector);
    for (const [k, v] of Object.entries(sts.spec?.selector.matchLabels ?? {})) {
      assert.equal(sts.spec?.template.metadata?.labels?.[k], v, 'template labels match the selector');
    }
  });

  void it('maps dataRetentionPolicy to the PVC retention policy', () => {
    for (const policy of ['Retain', 'Delete'] as const) {
      const sts = buildStatefulSet(parsed({ dataRetentionPolicy: policy }), context());
      assert.equal(sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted, policy);
    }
  });

  void it('claims the data volume with the requested size and storage class', () => {
    const sts = buildStatefulSet(parsed({ volumeSize: '750Gi', storageClassName: 'fast-ssd' }), context());
    const [vct, ...rest] = sts.spec?.volumeClaimTemplates ?? [];
    assert.equal(rest.length, 0);
    assert.equal(vct?.metadata?.name, 'data');
    assert.equal(vct?.spec?.resources?.requests?.storage, '750Gi');
    assert.equal(vct?.spec?.storageClassName, 'fast-ssd');
    const noClass = buildStatefulSet(parsed(), context()).spec?.volumeClaimTemplates?.[0];
    assert.equal(noClass?.spec?.storageClassName, undefined, 'omitted: the cluster default class');
  });

  void it('runs a peer as seed-init, recovery, then the server', () => {
    const sts = buildStatefulSet(parsed(), context());
    assert.deepEqual(names(podSpec(sts).initContainers), [CONTAINERS.seedInit, CONTAINERS.recovery]);
    assert.deepEqual(names(podSpec(sts).containers), [CONTAINERS.server]);
    assert.ok(!allContainers(sts).some(isSidecar));
  });

  for (const role of ['api', 'dual'] as const) {
    void it(`orders the ${role} containers: MongoDB before recovery, recovery before server, server before broker, REST last`, () => {
      const sts = buildStatefulSet(parsed(ROLES_FIXTURES[role]), context());
      const init = podSpec(sts).initContainers ?? [];
      assert.deepEqual(names(init), [
        CONTAINERS.seedInit,
        CONTAINERS.mongo,
        CONTAINERS.mongoInit,
        CONTAINERS.recovery,
        CONTAINERS.server,
        CONTAINERS.broker,
      ]);
      assert.deepEqual(names(podSpec(sts).containers), [CONTAINERS.rest]);
      for (const c of init) {
        const long = [CONTAINERS.mongo, CONTAINERS.server, CONTAINERS.broker].includes(c.name as never);
        assert.equal(isSidecar(c), long, `${c.name}: long-running containers are native sidecars`);
        if (isSidecar(c)) assert.ok(c.startupProbe, `${c.name}: its startup probe gates the next container`);
        else
          assert.ok(
            !c.startupProbe && !c.livenessProbe && !c.readinessProbe && !c.lifecycle,
            `${c.name}: probes are forbidden on plain init containers`,
          );
      }
      assert.equal(container(sts, CONTAINERS.mongo).image, MONGO_IMAGE);
      assert.equal(container(sts, CONTAINERS.mongoInit).image, MONGO_IMAGE);
      assert.equal(container(sts, CONTAINERS.rest).image, REST_IMAGE);
      for (const name of [CONTAINERS.recovery, CONTAINERS.server, CONTAINERS.broker])
        assert.equal(container(sts, name).image, SERVER_IMAGE);
      assert.equal(container(sts, CONTAINERS.seedInit).image, OPERATOR_IMAGE);
      assert.ok(
        (podSpec(sts).terminationGracePeriodSeconds ?? 0) >= 300 + 60,
        'server and broker stop one after the other',
      );
    });
  }

  void it('starts catapult with its configuration directory and library path', () => {
    const sts = buildStatefulSet(parsed(ROLES_FIXTURES.api), context());
    for (const [name, binary] of [
      [CONTAINERS.server, 'catapult.server'],
      [CONTAINERS.broker, 'catapult.broker'],
      [CONTAINERS.recovery, 'catapult.recovery'],
    ] as const) {
      const c = container(sts, name);
      assert.match(
        (c.command ?? []).join(' '),
        new RegExp(`exec /usr/catapult/bin/${binary.replace('.', '\\.')} /userconfig$`),
        name,
      );
      assert.deepEqual(c.env?.find((e) => e.name === 'LD_LIBRARY_PATH')?.value, '/usr/catapult/lib:/usr/catapult/deps');
    }
    assert.equal(podSpec(buildStatefulSet(parsed(), context())).terminationGracePeriodSeconds, 300);
  });

  void it("repairs a left lock in a peer server's own start, never in an API node's server or broker", () => {
    const peer = container(buildStatefulSet(parsed(), context()), CONTAINERS.server);
    assert.deepEqual(peer.command, ['/bin/sh', '-c', PEER_SERVER_START_SCRIPT]);
    assert.match(
      PEER_SERVER_START_SCRIPT,
      /catapult\.recovery \/userconfig\n.*\nfi\nexec \/usr\/catapult\/bin\/catapult\.server/,
    );
    for (const role of ['api', 'dual'] as const) {
      const sts = buildStatefulSet(parsed(ROLES_FIXTURES[role]), context());
      for (const [name, binary] of [
        [CONTAINERS.server, 'catapult.server'],
        [CONTAINERS.broker, 'catapult.broker'],
      ] as const) {
        const script = container(sts, name).command?.[2] ?? '';
        assert.equal(script, apiCatapultStartScript(binary), `${role} ${name}`);
        assert.ok(!script.includes('catapult.recovery /userconfig'), `${role} ${name} never runs recovery`);
        assert.match(script, /exit 253/);
      }
    }
  });

  void it('hands the tail of the log of a failed catapult or seed-init container to its termination message', () => {
    for (const role of ['peer', 'api', 'dual'] as const) {
      const sts = buildStatefulSet(parsed(ROLES_FIXTURES[role]), context());
      for (const c of allContainers(sts)) {
        const catapult = [CONTAINERS.server, CONTAINERS.broker, CONTAINERS.recovery, CONTAINERS.seedInit];
        const want = (catapult as string[]).includes(c.name) ? 'FallbackToLogsOnError' : undefined;
        assert.equal(c.terminationMessagePolicy, want, `${role} ${c.name}`);
      }
    }
    const job = buildRecoveryJob(parsed(), { run: 1, attempt: 1, reason: 'SigKilled' });
    assert.equal(job.spec?.template.spec?.containers[0]?.terminationMessagePolicy, 'FallbackToLogsOnError');
  });

  void it('publishes an operator-held network package as one immutable ConfigMap per content, for seed-init', () => {
    const zip = new Uint8Array(readFileSync(saiPackageZip));
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const cm = buildNetworkPackageConfigMap('symbol', zip);
    assert.equal(cm.metadata?.name, `${NETWORK_PACKAGE_CONFIGMAP_PREFIX}${sha256.slice(0, 12)}`);
    assert.equal(cm.metadata?.name, networkPackageConfigMapName(zip));
    assert.equal(cm.metadata?.namespace, 'symbol');
    assert.equal(cm.metadata?.ownerReferences, undefined, 'shared by the namespace, owned by no node');
    assert.equal(cm.metadata?.labels?.['app.kubernetes.io/managed-by'], 'symbol-node-operator');
    assert.equal(cm.metadata?.annotations?.[ANNOTATION_PACKAGE_SHA256], sha256);
    assert.equal(cm.immutable, true);
    assert.deepEqual(Object.keys(cm.binaryData ?? {}), ['package.zip']);
    assert.ok(Buffer.from(cm.binaryData!['package.zip']!, 'base64').equals(zip));
    assert.equal(cm.data, undefined);
    assert.ok(zip.byteLength < NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES, 'sai fits');
    assert.throws(
      () => buildNetworkPackageConfigMap('symbol', new Uint8Array(NETWORK_PACKAGE_CONFIGMAP_MAX_BYTES + 1)),
      /does not fit a ConfigMap/,
    );
    // seed-init reads it through the package volume, with the checksum
    const seedPackage: SeedPackageSource = {
      kind: 'configMap',
      name: networkPackageConfigMapName(zip),
      key: 'package.zip',
      checksum: { algorithm: 'sha256', hex: sha256 },
    };
    const sts = buildStatefulSet(parsed(), context({ seedPackage }));
    const seedInit = container(sts, CONTAINERS.seedInit);
    assert.deepEqual(seedInit.args?.slice(-4), [
      '--package-file',
      '/package/package.zip',
      '--package-checksum',
      `sha256:${sha256}`,
    ]);
    assert.ok(podSpec(sts).volumes?.some((v) => v.configMap?.name === networkPackageConfigMapName(zip)));
  });

  void it('runs recovery only when a lock file was left behind, with a constant script', () => {
    const a = container(
      buildStatefulSet(parsed({ hostName: 'a.example.org', friendlyName: 'A' }), context()),
      CONTAINERS.recovery,
    );
    const b = container(
      buildStatefulSet(parsed({ hostName: 'b.example.org', friendlyName: 'B' }, 'other'), context()),
      CONTAINERS.recovery,
    );
    assert.deepEqual(a.command, b.command, 'nothing from the spec is interpolated');
    const script = a.command?.[2] ?? '';
    assert.equal(a.command?.[0], '/bin/sh');
    for (const lock of ['server.lock', 'broker.lock']) assert.ok(script.includes(lock), lock);
    assert.match(script, /exit 0/);
    assert.match(script, /exec \/usr\/catapult\/bin\/catapult\.recovery \/userconfig/);
  });

  void it('passes nothing user-controlled through a shell', () => {
    const evil = { hostName: 'evil.example.org', friendlyName: 'x; $(reboot) `id`' };
    const sts = buildStatefulSet(parsed({ ...ROLES_FIXTURES.dual, ...evil }), context());
    for (const c of allContainers(sts)) {
      const text = JSON.stringify([c.command, c.args, c.env]);
      assert.ok(!text.includes('evil.example.org') && !text.includes('reboot'), c.name);
    }
  });

  void it('initialises the seed from the package with verification, on the volume, by the operator image', () => {
    const byUrl = container(buildStatefulSet(parsed(), context()), CONTAINERS.seedInit);
    assert.deepEqual(byUrl.command, ['node', '/app/dist/worker/seedInit.js']);
    const args = byUrl.args ?? [];
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(arg('--package-url'), 'https://example.org/sai.zip');
    assert.equal(arg('--package-checksum'), `sha256:${'ab'.repeat(32)}`);
    assert.ok(!args.includes('--package-sha256'), 'the old flag is gone');
    assert.equal(arg('--network'), 'sai');
    assert.equal(arg('--seed-dir'), '/pvc/seed');
    assert.equal(arg('--data-dir'), '/pvc/data');
    assert.ok(!args.includes('--package-file'));

    const node = parsed({ network: 'custom', networkPackage: { configMapRef: { name: 'my-net', key: 'net.zip' } } });
    const seedPackage = resolveSeedPackage(node, {});
    const sts = buildStatefulSet(node, context({ seedPackage }));
    const byConfigMap = container(sts, CONTAINERS.seedInit);
    const file = (byConfigMap.args ?? [])[(byConfigMap.args ?? []).indexOf('--package-file') + 1] ?? '';
    const mount = byConfigMap.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
    const volume = podSpec(sts).volumes?.find((v) => v.name === mount?.name);
    assert.equal(mount?.readOnly, true);
    assert.equal(volume?.configMap?.name, 'my-net');
    assert.equal(file.slice((mount?.mountPath.length ?? 0) + 1), 'net.zip');
    assert.ok(!(byConfigMap.args ?? []).includes('--package-checksum'), 'an unpinned ConfigMap package');
    assert.ok(!(byConfigMap.args ?? []).includes('--package-url'));
  });

  void it('passes the seed package checksum as <algorithm>:<lower-case hex> for both algorithms', () => {
    const seedArgs = (seedPackage: SeedPackageSource) => {
      const args = container(buildStatefulSet(parsed(), context({ seedPackage })), CONTAINERS.seedInit).args ?? [];
      assert.equal(args.filter((a) => a === '--package-checksum').length, 1);
      return args[args.indexOf('--package-checksum') + 1];
    };
    const url = 'https://example.org/net.zip';
    const sha3: PinnedChecksum = { algorithm: 'sha3-512', hex: 'AbCd'.repeat(32) };
    assert.equal(seedArgs({ kind: 'url', url, checksum: sha3 }), `sha3-512:${'abcd'.repeat(32)}`);
    assert.equal(
      seedArgs({ kind: 'url', url, checksum: { algorithm: 'sha256', hex: 'EF'.repeat(32) } }),
      `sha256:${'ef'.repeat(32)}`,
    );
    assert.equal(
      seedArgs({ kind: 'configMap', name: 'my-net', key: 'net.zip', checksum: sha3 }),
      `sha3-512:${'abcd'.repeat(32)}`,
    );
  });

  void it('rejects a seed package checksum that does not fit its algorithm', () => {
    const url = 'https://example.org/net.zip';
    const withChecksum = (checksum: unknown): SeedPackageSource =>
      ({ kind: 'url', url, checksum }) as SeedPackageSource;
    const bad: [unknown, RegExp][] = [
      [{ algorithm: 'sha256', hex: 'ab'.repeat(64) }, /sha256 is not 64 hex digits/],
      [{ algorithm: 'sha256', hex: 'ab'.repeat(31) }, /sha256 is not 64 hex digits/],
      [{ algorithm: 'sha3-512', hex: 'ab'.repeat(32) }, /sha3-512 is not 128 hex digits/],
      [{ algorithm: 'sha3-512', hex: 'xy'.repeat(64) }, /sha3-512 is not 128 hex digits/],
      [{ algorithm: 'sha256', hex: ` ${'ab'.repeat(32)}` }, /sha256 is not 64 hex digits/],
      [{ algorithm: 'md5', hex: 'ab'.repeat(16) }, /algorithm "md5" is not one of sha256, sha3-512/],
      [{ algorithm: 'SHA256', hex: 'ab'.repeat(32) }, /algorithm "SHA256"/],
      [undefined, /checksum is missing/],
    ];
    for (const [checksum, message] of bad) {
      assert.throws(() => checkBuildContext(context({ seedPackage: withChecksum(checksum) })), message);
      assert.throws(() => buildStatefulSet(parsed(), context({ seedPackage: withChecksum(checksum) })), BuildError);
      const configMap = { kind: 'configMap', name: 'n', key: 'k', checksum } as SeedPackageSource;
      if (checksum !== undefined) assert.throws(() => checkBuildContext(context({ seedPackage: configMap })), message);
    }
    for (const checksum of [
      { algorithm: 'sha256', hex: 'AB'.repeat(32) },
      { algorithm: 'sha3-512', hex: 'ab'.repeat(64) },
      { algorithm: 'sha3-512', hex: 'AB'.repeat(64) },
    ]) {
      assert.doesNotThrow(() => checkBuildContext(context({ seedPackage: withChecksum(checksum) })));
    }
    assert.doesNotThrow(() => checkBuildContext(context({ seedPackage: { kind: 'configMap', name: 'n', key: 'k' } })));
  });

  void it('mounts configuration read-only, certificates with mode 0400, and catapult state from the volume', () => {
    const sts = buildStatefulSet(parsed({ voter: true }), context());
    const server = container(sts, CONTAINERS.server);
    const at = (path: string) => server.volumeMounts?.find((m) => m.mountPath === path);
    const volume = (name: string | undefined) => podSpec(sts).volumes?.find((v) => v.name === name);
    assert.equal(at('/userconfig/resources')?.readOnly, true);
    assert.equal(volume(at('/userconfig/resources')?.name)?.configMap?.name, objectNames('node-a').resourcesConfigMap);
    assert.equal(at('/certificates')?.readOnly, true);
    assert.equal(volume(at('/certificates')?.name)?.secret?.secretName, objectNames('node-a').certificatesSecret);
    assert.equal(volume(at('/certificates')?.name)?.secret?.defaultMode, 0o400);
    assert.deepEqual([at('/data')?.name, at('/data')?.subPath, at('/data')?.readOnly], ['data', 'data', undefined]);
    assert.deepEqual([at('/seed')?.name, at('/seed')?.subPath, at('/seed')?.readOnly], ['data', 'seed', true]);
    assert.deepEqual(
      [at('/votingkeys')?.subPath, at('/votingkeys')?.readOnly],
      ['votingkeys', undefined],
      'used keys are wiped',
    );
    const nonVoter = container(buildStatefulSet(parsed(), context()), CONTAINERS.server);
    assert.ok(!nonVoter.volumeMounts?.some((m) => m.mountPath === '/votingkeys'));
  });

  void it('gives MongoDB its own directory on the volume, bound to localhost', () => {
    const sts = buildStatefulSet(parsed(ROLES_FIXTURES.api), context());
    const mongo = container(sts, CONTAINERS.mongo);
    const data = mongo.volumeMounts?.find((m) => m.name === 'data');
    assert.equal(data?.subPath, 'dbdata');
    assert.ok(mongo.command?.includes(`--dbpath=${data?.mountPath}`));
    assert.ok(mongo.command?.includes('--bind_ip=127.0.0.1'));
  });

  void it('never mounts or exposes the main account key', () => {
    for (const spec of [
      {},
      { ...ROLES_FIXTURES.dual, harvester: true, voter: true },
      { identitySecretRef: { name: 'byo-key' } },
    ]) {
      const node = parsed(spec);
      const sts = buildStatefulSet(node, context());
      const pod = podSpec(sts);
      const secretNames = (pod.volumes ?? []).flatMap((v) => [
        ...(v.secret?.secretName ? [v.secret.secretName] : []),
        ...(v.projected?.sources ?? []).flatMap((s) => (s.secret?.name ? [s.secret.name] : [])),
      ]);
      const n = objectNames(node.metadata.name);
      assert.ok(!secretNames.includes(n.identitySecret), 'generated identity');
      assert.ok(!secretNames.includes('byo-key'), 'brought identity');
      assert.ok(
        secretNames.every((s) => s === n.certificatesSecret || s === n.harvestingSecret),
        secretNames.join(),
      );
      for (const c of allContainers(sts)) {
        assert.ok(!c.envFrom, c.name);
        assert.ok(!(c.env ?? []).some((e) => e.valueFrom?.secretKeyRef), c.name);
      }
      assert.equal(pod.automountServiceAccountToken, false);
    }
  });

  void it('shows the harvesting keys to the server only', () => {
    const node = parsed({ ...ROLES_FIXTURES.dual, harvester: true });
    const sts = buildStatefulSet(node, context());
    const pod = podSpec(sts);
    const harvesting = objectNames(node.metadata.name).harvestingSecret;
    const volumesWithKeys = (pod.volumes ?? [])
      .filter((v) => (v.projected?.sources ?? []).some((s) => s.secret?.name === harvesting))
      .map((v) => v.name);
    assert.equal(volumesWithKeys.length, 1);
    for (const c of allContainers(sts)) {
      const sees = (c.volumeMounts ?? []).some((m) => volumesWithKeys.includes(m.name));
      assert.equal(sees, c.name === CONTAINERS.server, c.name);
    }
    assert.throws(() => buildResourcesConfigMap(node, saiResources), BuildError, 'the keys never go to a ConfigMap');
  });

  void it('publishes port 7900 on the host only when hostPort is set', () => {
    for (const spec of [{}, ROLES_FIXTURES.api]) {
      const hostPorts = (on: boolean) =>
        allContainers(buildStatefulSet(parsed({ ...spec, hostPort: on }), context())).flatMap((c) =>
          (c.ports ?? []).filter((p) => p.hostPort !== undefined).map((p) => [c.name, p.containerPort, p.hostPort]),
        );
      assert.deepEqual(hostPorts(true), [[CONTAINERS.server, 7900, 7900]]);
      assert.deepEqual(hostPorts(false), []);
    }
  });

  void it('probes the peer port, waits long for catapult to start, and checks REST health', () => {
    const sts = buildStatefulSet(parsed(ROLES_FIXTURES.api), context());
    const server = container(sts, CONTAINERS.server);
    for (const probe of [server.startupProbe, server.readinessProbe, server.livenessProbe])
      assert.equal(probe?.tcpSocket?.port, 7900);
    const budget = (server.startupProbe?.periodSeconds ?? 10) * (server.startupProbe?.failureThreshold ?? 3);
    assert.ok(budget >= 30 * 60, `startup may take ${budget}s, at least 30 min are allowed`);
    const liveness = server.livenessProbe!;
    assert.ok(
      (liveness.periodSeconds ?? 10) * (liveness.failureThreshold ?? 3) >= 120,
      'a busy node is not killed at the first stall',
    );
    const rest = container(sts, CONTAINERS.rest);
    assert.equal(rest.readinessProbe?.httpGet?.path, '/node/health');
    const restPort = rest.ports?.find(
      (p) => p.name === rest.readinessProbe?.httpGet?.port || p.containerPort === rest.readinessProbe?.httpGet?.port,
    );
    assert.equal(restPort?.containerPort, 3000);
    assert.equal(container(sts, CONTAINERS.broker).startupProbe?.tcpSocket?.port, 7902);
    assert.equal(container(sts, CONTAINERS.mongo).startupProbe?.tcpSocket?.port, 27017);
  });

  void it('runs everything unprivileged', () => {
    const sts = buildStatefulSet(
      parsed({ ...ROLES_FIXTURES.dual, harvester: true, voter: true, hostPort: true }),
      context(),
    );
    const pod = podSpec(sts);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok((pod.securityContext?.runAsUser ?? 0) > 0);
    assert.ok((pod.securityContext?.fsGroup ?? 0) > 0);
    assert.equal(pod.securityContext?.fsGroupChangePolicy, 'OnRootMismatch');
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.notEqual(pod.hostNetwork, true);
    for (const c of allContainers(sts)) {
      const s = c.securityContext;
      assert.equal(s?.allowPrivilegeEscalation, false, c.name);
      assert.deepEqual(s?.capabilities?.drop, ['ALL'], c.name);
      assert.equal(s?.capabilities?.add, undefined, c.name);
      assert.equal(s?.readOnlyRootFilesystem, true, c.name);
      assert.notEqual(s?.privileged, true, c.name);
      assert.ok(c.resources?.requests && c.resources.limits, `${c.name} has requests and limits`);
    }
  });

  void it('uses spec.resources for the server', () => {
    const resources = { requests: { cpu: '3', memory: '12Gi' }, limits: { memory: '24Gi' } };
    const sts = buildStatefulSet(parsed({ resources }), context());
    assert.deepEqual(container(sts, CONTAINERS.server).resources, resources);
  });

  void it('carries the config hash so a configuration change rolls the pod', () => {
    const hashA = configHash({ 'resources/config-node.properties': 'host = a' });
    const hashB = configHash({ 'resources/config-node.properties': 'host = b' });
    const a = buildStatefulSet(parsed(), context({ configHash: hashA }));
    const b = buildStatefulSet(parsed(), context({ configHash: hashB }));
    assert.equal(a.spec?.template.metadata?.annotations?.[ANNOTATION_CONFIG_HASH], hashA);
    assert.notDeepEqual(a.spec?.template, b.spec?.template);
    assert.throws(() => buildStatefulSet(parsed(), context({ configHash: 'not-a-hash' })), BuildError);
  });

  void it('adds restart-all rules for catapult crashes only when asked', () => {
    const withRules = (on: boolean, spec = {}) =>
      allContainers(buildStatefulSet(parsed(spec), context({ restartAllContainersOnCrash: on })))
        .filter((c) => c.restartPolicyRules?.some((r) => r.action === 'RestartAllContainers'))
        .map((c) => c.name);
    assert.deepEqual(withRules(false), []);
    assert.deepEqual(withRules(true), [CONTAINERS.server]);
    assert.deepEqual(withRules(true, ROLES_FIXTURES.api), [CONTAINERS.server, CONTAINERS.broker]);
    const server = container(
      buildStatefulSet(parsed(), context({ restartAllContainersOnCrash: true })),
      CONTAINERS.server,
    );
    assert.equal(server.restartPolicy, 'Always', 'required by the API server when rules are set');
    assert.deepEqual(server.restartPolicyRules?.[0]?.exitCodes, { operator: 'NotIn', values: [0] });
  });

  void it('is internally consistent: unique container names, every mount has a volume, every volume is used', () => {
    for (const spec of [{}, ROLES_FIXTURES.api, { ...ROLES_FIXTURES.dual, harvester: true, voter: true }]) {
      const sts = buildStatefulSet(parsed(spec), context());
      const pod = podSpec(sts);
      const containerNames = names(allContainers(sts));
      assert.equal(new Set(containerNames).size, containerNames.length);
      const volumes = new Set([
        ...(pod.volumes ?? []).map((v) => v.name),
        ...(sts.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata?.name),
      ]);
      const used = new Set(allContainers(sts).flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
      for (const name of used) assert.ok(volumes.has(name), `mount of unknown volume ${name}`);
      for (const name of volumes) assert.ok(used.has(name!), `unused volume ${name}`);
      for (const c of allContainers(sts)) for (const p of c.ports ?? []) assert.ok((p.name ?? '').length <= 15, p.name);
    }
  });
});

void describe('Services', () => {
  void it('expose the peer port, and REST for API roles', () => {
    const ports = (spec: Record<string, unknown>) => (buildService(parsed(spec)).spec?.ports ?? []).map((p) => p.port);
    assert.deepEqual(ports({}), [7900]);
    assert.deepEqual(ports(ROLES_FIXTURES.api), [7900, 3000]);
    assert.deepEqual(ports(ROLES_FIXTURES.dual), [7900, 3000]);
  });

  void it('target named container ports that exist', () => {
    const node = parsed(ROLES_FIXTURES.api);
    const sts = buildStatefulSet(node, context());
    const portNames = new Set(allContainers(sts).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const svc of [buildService(node), buildHeadlessService(node)]) {
      for (const p of svc.spec?.ports ?? []) assert.ok(portNames.has(String(p.targetPort)), String(p.targetPort));
    }
  });

  void it('has a headless governing Service that publishes the pod before it is ready', () => {
    const svc = buildHeadlessService(parsed());
    assert.equal(svc.spec?.clusterIP, 'None');
    assert.equal(svc.spec?.publishNotReadyAddresses, true);
  });
});

void describe('ConfigMaps and Secrets', () => {
  void it('carries the sai resources and MongoDB scripts as they are', () => {
    const node = parsed(ROLES_FIXTURES.api);
    const cm = buildResourcesConfigMap(node, saiResources);
    assert.deepEqual(cm.data, saiResources);
    assert.equal(buildMongoScriptsConfigMap(node, saiMongo).data?.['mongoDbPrepare.js'], saiMongo['mongoDbPrepare.js']);
    assert.deepEqual(
      JSON.parse(buildRestConfigMap(node, saiRestJson).data?.['rest.json'] ?? ''),
      JSON.parse(saiRestJson),
    );
  });

  void it('refuses what cannot work', () => {
    const peer = parsed();
    assert.throws(
      () => buildResourcesConfigMap(peer, { 'seed/00000/00001.dat': 'x' }),
      BuildError,
      'keys cannot hold paths',
    );
    assert.throws(() => buildResourcesConfigMap(peer, { big: 'x'.repeat(1024 * 1024) }), /limit/);
    assert.throws(() => buildRestConfigMap(peer, saiRestJson), BuildError, 'a peer has no REST');
    assert.throws(() => buildRestConfigMap(parsed(ROLES_FIXTURES.api), '{'), /JSON/);
    assert.throws(() => buildMongoScriptsConfigMap(parsed(ROLES_FIXTURES.api), { 'x.js': '' }), /mongoDbPrepare/);
  });

  void it('stores exactly the five certificate files, base64-encoded', () => {
    const secret = buildCertificatesSecret(parsed(), certificates);
    assert.deepEqual(Object.keys(secret.data ?? {}).sort(), [...CERTIFICATE_FILES].sort());
    for (const f of CERTIFICATE_FILES)
      assert.equal(Buffer.from(secret.data?.[f] ?? '', 'base64').toString('utf8'), certificates[f]);
    const four = Object.fromEntries(Object.entries(certificates).filter(([name]) => name !== 'node.key.pem'));
    assert.throws(() => buildCertificatesSecret(parsed(), four as CertificateFiles), /missing: node\.key\.pem/);
  });

  void it('stores a generated identity but not over a brought one', () => {
    const key = 'cd'.repeat(32);
    const secret = buildIdentitySecret(parsed(), key);
    assert.equal(Buffer.from(secret.data?.privateKey ?? '', 'base64').toString(), key.toUpperCase());
    assert.throws(() => buildIdentitySecret(parsed({ identitySecretRef: { name: 'mine' } }), key), BuildError);
    assert.throws(() => buildIdentitySecret(parsed(), 'short'), BuildError);
  });

  void it('resolves the seed package from the spec or the built-in list', () => {
    const builtIn: BuiltInPackages = {
      sai: { url: 'https://example.org/sai.zip', checksum: { algorithm: 'sha256', hex: '12'.repeat(32) } },
    };
    assert.deepEqual(resolveSeedPackage(parsed(), builtIn), { kind: 'url', ...builtIn.sai });
    const override = { url: 'https://mirror.example.org/sai.zip', sha256: '34'.repeat(32) };
    assert.deepEqual(resolveSeedPackage(parsed({ networkPackage: override }), builtIn), {
      kind: 'url',
      url: override.url,
      checksum: { algorithm: 'sha256', hex: '34'.repeat(32) },
    });
    const configMapRef = { name: 'my-net', key: 'net.zip' };
    assert.deepEqual(resolveSeedPackage(parsed({ networkPackage: { configMapRef, sha256: '56'.repeat(32) } }), {}), {
      kind: 'configMap',
      ...configMapRef,
      checksum: { algorithm: 'sha256', hex: '56'.repeat(32) },
    });
    assert.deepEqual(resolveSeedPackage(parsed({ networkPackage: { configMapRef } }), {}), {
      kind: 'configMap',
      ...configMapRef,
    });
    assert.throws(() => resolveSeedPackage(parsed({ network: 'mainnet' }), builtIn), /no network package/);
    const malformed = { sai: { url: 'https://example.org/sai.zip', checksum: { algorithm: 'sha256', hex: '12' } } };
    assert.throws(() => resolveSeedPackage(parsed(), malformed as BuiltInPackages), BuildError);
  });

  void it('takes the network package presets as built-in packages, mainnet pinned with SHA3-512', () => {
    const builtIn: BuiltInPackages = NETWORK_PACKAGE_PRESETS;
    const mainnet = resolveSeedPackage(parsed({ network: 'mainnet' }), builtIn);
    assert.equal(mainnet.kind, 'url');
    assert.equal(mainnet.checksum?.algorithm, 'sha3-512');
    assert.equal(mainnet.checksum?.hex, NETWORK_PACKAGE_PRESETS.mainnet.checksum.hex.toLowerCase());
    assert.notEqual(NETWORK_PACKAGE_PRESETS.mainnet.checksum.hex, mainnet.checksum?.hex, 'the preset is upper case');
    const sts = buildStatefulSet(parsed({ network: 'mainnet' }), context({ seedPackage: mainnet }));
    const args = container(sts, CONTAINERS.seedInit).args ?? [];
    assert.equal(args[args.indexOf('--package-url') + 1], NETWORK_PACKAGE_PRESETS.mainnet.url);
    assert.match(args[args.indexOf('--package-checksum') + 1] ?? '', /^sha3-512:[0-9a-f]{128}$/);
    assert.deepEqual(resolveSeedPackage(parsed(), builtIn), {
      kind: 'url',
      url: NETWORK_PACKAGE_PRESETS.sai.url,
      checksum: NETWORK_PACKAGE_PRESETS.sai.checksum,
    });
  });

  void it('builds the objects of every sample role without error', () => {
    for (const spec of [
      {},
      { role: 'api', ...API_IMAGES },
      { role: 'dual', ...API_IMAGES, harvester: true, voter: true },
    ]) {
      assert.doesNotThrow(() => everything(parsed(spec)));
    }
  });
});
