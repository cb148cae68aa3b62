/**
 * A `role: dual` sai node: everything the full API stack needs reaches the cluster — rest.json and the MongoDB
 * scripts in ConfigMaps, the containers in the documented order (k8s/README.md "Pod layout") with the images from
 * the spec, the REST port on the Service — and the node becomes Ready.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SymbolNodeSpecInput } from '../../k8s/symbolNode.js';
import { PropertiesDocument } from '../../symbol/index.js';
import { withNamespace } from '../support/cluster.js';
import { testOperatorImage, withOperator } from '../support/operator.js';
import { saiPackageDir } from '../support/paths.js';
import { conditionOf, createSymbolNode, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

/** Every string in a JSON value that is an absolute path. */
function absolutePaths(value: unknown): string[] {
  if (typeof value === 'string') return value.startsWith('/') ? [value] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.values(value).flatMap(absolutePaths);
}

const dualSpec: SymbolNodeSpecInput = {
  ...saiPeerSpec,
  role: 'dual',
  hostName: 'dual.example.org',
  friendlyName: 'test dual',
  restImage: 'symbolplatform/symbol-rest:2.5.1',
  mongoImage: 'mongo:7.0.16',
};

test('a sai dual SymbolNode gets REST and MongoDB ConfigMaps, the documented container order, ports 7900 and 3000, and becomes Ready', async () => {
  await withNamespace('provision-api', async (namespace, kc) => {
    await withOperator({ namespace }, async ({ kube }) => {
      const name = 'api-dual';
      const created = await createSymbolNode(kc, namespace, name, dualSpec);
      const node = await waitForCondition(kc, namespace, name, 'Ready', 'True');
      assert.equal(conditionOf(node, 'Provisioned')?.status, 'True');
      assert.equal(conditionOf(node, 'Degraded')?.status, 'False');
      assert.equal(conditionOf(node, 'Ready')?.observedGeneration, 1);
      assert.equal(node.status?.phase, 'Running');
      assert.equal(node.status?.image, dualSpec.image);

      // rest.json: REST talks to the server, the broker and MongoDB of its own pod over loopback.
      const rest = await kube.core.readNamespacedConfigMap({ namespace, name: `${name}-rest` });
      assert.deepEqual(Object.keys(rest.data ?? {}), ['rest.json']);
      const restJson = JSON.parse(rest.data!['rest.json']!) as {
        port: number;
        network: { name: string };
        db: { url: string; name: string };
        apiNode: {
          host: string;
          port: number;
          tlsClientCertificatePath: string;
          tlsClientKeyPath: string;
          tlsCaCertificatePath: string;
        };
        websocket: { mq: { host: string; port: number } };
      };
      assert.equal(restJson.port, 3000);
      assert.equal(restJson.network.name, 'testnet');
      assert.equal(restJson.db.url, 'mongodb://127.0.0.1:27017/');
      assert.equal(restJson.apiNode.host, '127.0.0.1');
      assert.equal(restJson.apiNode.port, 7900);
      assert.equal(restJson.websocket.mq.host, '127.0.0.1');
      assert.equal(restJson.websocket.mq.port, 7902);
      for (const path of [
        restJson.apiNode.tlsClientCertificatePath,
        restJson.apiNode.tlsClientKeyPath,
        restJson.apiNode.tlsCaCertificatePath,
      ]) {
        assert.match(path, /^\/certificates\/(node\.crt|node\.key|ca\.crt)\.pem$/);
      }

      // MongoDB scripts: the package's mongo/*.js, unchanged (mongoDbPrepare.js loads the others by name).
      const mongo = await kube.core.readNamespacedConfigMap({ namespace, name: `${name}-mongo` });
      const packageScripts = (await readdir(join(saiPackageDir, 'mongo'))).sort();
      assert.ok(packageScripts.includes('mongoDbPrepare.js'));
      assert.deepEqual(Object.keys(mongo.data ?? {}).sort(), packageScripts);
      for (const script of packageScripts) {
        assert.equal(mongo.data?.[script], await readFile(join(saiPackageDir, 'mongo', script), 'utf8'), script);
      }

      // Catapult configuration: an API node.
      const resources = await kube.core.readNamespacedConfigMap({ namespace, name: `${name}-resources` });
      const nodeProperties = PropertiesDocument.parse(resources.data?.['config-node.properties'] ?? '');
      assert.equal(nodeProperties.get('localnode', 'roles'), 'Peer,Api');
      assert.equal(nodeProperties.get('localnode', 'host'), 'dual.example.org');
      assert.equal(nodeProperties.get('localnode', 'friendlyName'), 'test dual');
      const database = PropertiesDocument.parse(resources.data?.['config-database.properties'] ?? '');
      assert.equal(database.get('database', 'databaseUri'), 'mongodb://127.0.0.1:27017');
      assert.ok(resources.data?.['peers-api.json'], 'peers-api.json for an API node');
      const mainKey = Buffer.from(
        (await kube.core.readNamespacedSecret({ namespace, name: `${name}-identity` })).data?.privateKey ?? '',
        'base64',
      ).toString('utf8');
      assert.match(mainKey, /^[0-9A-F]{64}$/);
      for (const configMap of [resources, rest, mongo]) {
        for (const content of Object.values(configMap.data ?? {}))
          assert.ok(!content.includes(mainKey), `the main key never reaches ${configMap.metadata?.name}`);
      }

      // Pod layout: init seed-init → mongo⟳ → mongo-init → recovery → server⟳ → broker⟳, regular container rest.
      const sts = await kube.apps.readNamespacedStatefulSet({ namespace, name });
      assert.equal(sts.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid);
      const pod = sts.spec!.template.spec!;
      const init = pod.initContainers ?? [];
      assert.deepEqual(
        init.map((c) => c.name),
        ['seed-init', 'mongo', 'mongo-init', 'recovery', 'server', 'broker'],
      );
      assert.deepEqual(
        pod.containers.map((c) => c.name),
        ['rest'],
      );
      const images = Object.fromEntries([...init, ...pod.containers].map((c) => [c.name, c.image]));
      assert.deepEqual(images, {
        'seed-init': testOperatorImage,
        mongo: dualSpec.mongoImage,
        'mongo-init': dualSpec.mongoImage,
        recovery: dualSpec.image,
        server: dualSpec.image,
        broker: dualSpec.image,
        rest: dualSpec.restImage,
      });
      const sidecars = Object.fromEntries(
        init.map((c) => [c.name, c.restartPolicy === 'Always' ? c.startupProbe?.tcpSocket?.port : 'run-to-completion']),
      );
      assert.deepEqual(sidecars, {
        'seed-init': 'run-to-completion',
        mongo: 27017,
        'mongo-init': 'run-to-completion',
        recovery: 'run-to-completion',
        server: 7900,
        broker: 7902,
      });
      const volumes = Object.fromEntries(
        (pod.volumes ?? []).map((v) => [v.name, v.configMap?.name ?? v.secret?.secretName]),
      );
      assert.equal(volumes['rest-config'], `${name}-rest`);
      assert.equal(volumes['mongo-scripts'], `${name}-mongo`);
      // Every file rest.json names (certificates, properties, logs), and rest.json itself, is where REST looks.
      const restContainer = pod.containers[0]!;
      const referenced = [...absolutePaths(restJson), restContainer.command?.at(-1) ?? ''];
      assert.ok(referenced.includes('/rest-config/rest.json'), `REST command ${JSON.stringify(restContainer.command)}`);
      assert.ok(referenced.includes('/userconfig/resources/config-network.properties'));
      for (const path of referenced) {
        const mount = restContainer.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
        assert.ok(mount, `${path} is mounted into the rest container`);
        const file = path.slice(mount.mountPath.length + 1);
        const volume = pod.volumes?.find((v) => v.name === mount.name);
        if (volume?.configMap) {
          const configMap = await kube.core.readNamespacedConfigMap({ namespace, name: volume.configMap.name! });
          assert.ok(file in (configMap.data ?? {}), `${path}: ConfigMap ${volume.configMap.name} has ${file}`);
        } else if (volume?.secret) {
          const secret = await kube.core.readNamespacedSecret({ namespace, name: volume.secret.secretName! });
          assert.ok(file in (secret.data ?? {}), `${path}: Secret ${volume.secret.secretName} has ${file}`);
        } else {
          assert.equal(mount.name, 'data', `${path} is on the data volume`);
          assert.notEqual(mount.readOnly, true, `${path} is writable`);
        }
      }
      assert.ok(init.find((c) => c.name === 'mongo-init')!.volumeMounts?.some((m) => m.name === 'mongo-scripts'));
      assert.ok(pod.containers[0]!.ports?.some((p) => p.containerPort === 3000));

      // Services: peer 7900 and REST 3000, on the ClusterIP Service and the headless one.
      for (const serviceName of [name, `${name}-headless`]) {
        const service = await kube.core.readNamespacedService({ namespace, name: serviceName });
        assert.deepEqual(
          (service.spec?.ports ?? []).map((p) => [p.name, p.port, p.targetPort]),
          [
            ['peer', 7900, 'peer'],
            ['rest', 3000, 'rest'],
          ],
          serviceName,
        );
      }

      // The pod itself is Ready on its bound volume.
      const running = await kube.core.readNamespacedPod({ namespace, name: `${name}-0` });
      assert.equal(running.status?.phase, 'Running');
      assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      const pvc = await kube.core.readNamespacedPersistentVolumeClaim({ namespace, name: `data-${name}-0` });
      assert.equal(pvc.status?.phase, 'Bound');
    });
  });
});
