/**
 * End to end on the stack's real kubelet node: the operator runs in-cluster from its image as its ServiceAccount,
 * provisions a sai peer whose pod really runs catapult.server (built from source), and the node survives a SIGKILL
 * of the server and an unclean deletion of its pod through catapult.recovery. Nothing here is simulated; the sai
 * network itself is absent (no internet): the node stays at its nemesis height with no peer reachable.
 */
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { ensureCatapultImage } from '../../stack/catapult/image.js';
import { importImage, realNodePlacement } from '../../stack/realNode.js';
import { createCertificateSet, PrivateKeySecret } from '../../symbol/index.js';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import { uniqueName, watchUntil, withNamespace } from '../support/cluster.js';
import { containerProcesses } from '../support/hostProcesses.js';
import { installOperatorInCluster } from '../support/inCluster.js';
import { createLocalVolume, realNodeName, realNodeSkipReason, realNodeStorageClass } from '../support/realNode.js';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec, waitForCondition } from '../support/symbolNodes.js';

const NODE = 'real-peer';
const POD = `${NODE}-0`;

/** The last 32 bytes of an Ed25519 SubjectPublicKeyInfo are the key itself. */
const publicKeyHex = (certificate: X509Certificate): string =>
  certificate.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex').toUpperCase();

/**
 * A TLS 1.3 handshake with a client certificate chained like a Symbol node's (its own CA = main account → node),
 * as catapult requires of every peer. Resolves with the chain the server presented, once the server has kept the
 * connection open for a second after the handshake (a rejected client certificate ends it with an alert).
 */
async function peerHandshake(host: string): Promise<{ node: X509Certificate; ca: X509Certificate }> {
  const client = await createCertificateSet({
    mainKey: PrivateKeySecret.generate(),
    nodeKey: PrivateKeySecret.generate(),
    friendlyName: 'test client',
    host: 'client.example.org',
  });
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: 7900,
      minVersion: 'TLSv1.3',
      key: client.nodeKey.toPem(),
      cert: client.nodeFullCertificatePem,
      // catapult certificates carry no host name; the chain is checked below against the SymbolNode's public keys.
      rejectUnauthorized: false,
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate(true);
      const leaf = peer.raw ? new X509Certificate(peer.raw) : undefined;
      const issuer = peer.issuerCertificate?.raw ? new X509Certificate(peer.issuerCertificate.raw) : undefined;
      const closedEarly = (): void => reject(new Error('the node closed the connection after the handshake'));
      socket.once('close', closedEarly);
      setTimeout(() => {
        socket.off('close', closedEarly);
        socket.destroy();
        if (!leaf || !issuer)
          reject(new Error(`the node presented no certificate chain: ${JSON.stringify(peer.subject)}`));
        else resolve({ node: leaf, ca: issuer });
      }, 1000);
    });
  });
}

async function podLog(core: k8s.CoreV1Api, namespace: string, container: string): Promise<string> {
  return core.readNamespacedPodLog({ namespace, name: POD, container });
}

async function waitForPod(
  core: k8s.CoreV1Api,
  namespace: string,
  predicate: (pod: k8s.V1Pod) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<k8s.V1Pod> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pod = await core.readNamespacedPod({ namespace, name: POD }).catch(() => undefined);
    if (pod && predicate(pod)) return pod;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(pod?.status)}`);
    await sleep(500);
  }
}

const serverStatus = (pod: k8s.V1Pod): k8s.V1ContainerStatus | undefined =>
  pod.status?.containerStatuses?.find((c) => c.name === 'server');
const isReady = (pod: k8s.V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function killServer(pod: k8s.V1Pod): Promise<number> {
  const containerId = serverStatus(pod)?.containerID;
  assert.ok(containerId, 'the server container has an ID');
  const pids = await containerProcesses(containerId, /catapult\.server/);
  assert.equal(pids.length, 1, `one catapult.server process in container ${containerId}`);
  process.kill(pids[0]!, 'SIGKILL');
  return pids[0]!;
}

test(
  'on the real node, the in-cluster operator runs a sai peer: seed imported, TLS on 7900, recovery after SIGKILL and an unclean pod deletion, a failed start reported in catapult words',
  { timeout: 600_000 },
  async () => {
    const unavailable = realNodeSkipReason();
    assert.equal(unavailable, undefined, `the stack has a real node (${unavailable})`);
    const catapult = await ensureCatapultImage(() => undefined);
    await importImage(catapult.archive);

    await withNamespace('real-peer', async (namespace, kc) => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const operator = await installOperatorInCluster(kc, namespace, uniqueName('real-node-queue'));
      const volume = await createLocalVolume(kc, { capacity: '2Gi' });
      const dataDir = join(volume.path, 'data');
      try {
        await createSymbolNode(kc, namespace, NODE, {
          ...saiPeerSpec,
          image: catapult.reference,
          volumeSize: '1Gi',
          storageClassName: realNodeStorageClass,
          nodeSelector: realNodePlacement.nodeSelector,
          tolerations: realNodePlacement.tolerations,
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '2Gi' } },
        });
        const ready = await waitForCondition(kc, namespace, NODE, 'Ready', 'True', 240_000).catch(async (error) => {
          throw new Error(`${(error as Error).message}\n${await operator.logs()}`);
        });
        assert.equal(conditionOf(ready, 'Provisioned')?.status, 'True');

        // The pod really runs on the real node, from the seed that seed-init put on the volume.
        let pod = await core.readNamespacedPod({ namespace, name: POD });
        assert.equal(pod.spec?.nodeName, realNodeName);
        assert.match(await podLog(core, namespace, 'seed-init'), /seed-init: wrote the /);
        const firstStart = await podLog(core, namespace, 'server');
        assert.match(firstStart, /importing seed directory/);
        assert.match(firstStart, /loaded blockchain \(height = 1/);
        assert.ok(existsSync(join(dataDir, 'index.dat')), 'the chain lives on the node volume');

        // TLS 1.3 on 7900 that accepts a client chained like a Symbol node's, presenting the node's own chain.
        const chain = await peerHandshake(pod.status!.podIP!);
        assert.equal(publicKeyHex(chain.node), ready.status?.nodePublicKey);
        assert.equal(publicKeyHex(chain.ca), ready.status?.mainPublicKey);
        assert.ok(chain.node.verify(chain.ca.publicKey), 'the node certificate is signed by the node CA');

        // SIGKILL: the lock stays; the kubelet restarts the server in place, and its start runs catapult.recovery.
        await killServer(pod);
        pod = await waitForPod(
          core,
          namespace,
          (p) => (serverStatus(p)?.restartCount ?? 0) >= 1 && isReady(p),
          'the server to restart and be Ready',
        );
        const restarted = await podLog(core, namespace, 'server');
        assert.match(restarted, /catapult\.recovery/);
        assert.match(restarted, /loaded blockchain \(height = 1/);
        assert.doesNotMatch(restarted, /importing seed directory/, 'the data survived: no new import');

        // An unclean stop of the whole pod: the server is killed and the pod deleted at once; the new pod's recovery
        // init container finds the lock and repairs the data before the server starts.
        const oldUid = pod.metadata?.uid;
        await killServer(pod);
        await core.deleteNamespacedPod({ namespace, name: POD, gracePeriodSeconds: 0 });
        pod = await waitForPod(
          core,
          namespace,
          (p) => p.metadata?.uid !== oldUid && isReady(p),
          'a new pod to be Ready',
          180_000,
        );
        assert.match(await podLog(core, namespace, 'recovery'), /running catapult\.recovery/);
        const afterDeletion = await podLog(core, namespace, 'server');
        assert.match(afterDeletion, /loaded blockchain \(height = 1/);
        assert.doesNotMatch(afterDeletion, /importing seed directory/);
        await waitForCondition(kc, namespace, NODE, 'Ready', 'True', 120_000);

        // A start that fails is not hidden: with its data directory taken away, the server restarted after a clean
        // stop cannot take its instance lock; what catapult printed reaches the SymbolNode's condition and Events.
        await chmod(dataDir, 0o000);
        const [serverPid] = await containerProcesses(serverStatus(pod)!.containerID!, /catapult\.server/);
        process.kill(serverPid!, 'SIGTERM');
        const failed = await watchUntil<SymbolNode & k8s.KubernetesObject>(
          kc,
          `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
          {},
          (node) =>
            node.metadata?.name === NODE &&
            conditionOf(node, 'Degraded')?.status === 'True' &&
            /could not acquire instance lock/.test(conditionOf(node, 'Degraded')?.message ?? ''),
          120_000,
        );
        assert.match(conditionOf(failed, 'Degraded')!.message, /server\.lock/);
        const warnings = (await nodeEvents(kc, namespace, NODE)).filter((e) => e.type === 'Warning');
        assert.ok(
          warnings.some((e) => /could not acquire instance lock/.test(e.message ?? '')),
          `a Warning Event carries catapult's words: ${warnings.map((e) => e.message).join(' | ')}`,
        );
      } finally {
        await chmod(dataDir, 0o2775).catch(() => undefined);
        await operator.uninstall();
        await kc
          .makeApiClient(k8s.CustomObjectsApi)
          .deleteNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
            name: NODE,
          })
          .catch(() => undefined);
        await volume.remove();
      }
    });
  },
);
