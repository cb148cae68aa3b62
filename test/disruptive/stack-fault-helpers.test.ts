import '../support/quietTemporal.js';
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPid } from '../../stack/processes.js';
import { endpoints, paths } from '../../stack/versions.js';
import * as activities from '../fixtures/smokeActivities.js';
import { configMapRoundTrip } from '../fixtures/smokeWorkflows.js';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { killTemporal, startKubeApiserver, startTemporalAgain, stopKubeApiserver } from '../support/stackFaults.js';

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

const componentPid = (component: string): Promise<number | undefined> =>
  readPid(join(paths.clusterDir, 'pids', `${component}.pid`));
const commandLine = async (pid: number): Promise<string> => readFile(`/proc/${pid}/cmdline`, 'utf8');

test('kube-apiserver stopped alone refuses connections, then serves the same objects with the same arguments, and the controllers work again', async () => {
  await withNamespace('fault-apiserver', async (namespace, kc) => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const before = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'kept' }, data: { value: 'survives' } },
    });
    const oldPid = (await componentPid('kube-apiserver'))!;
    const oldCommand = await commandLine(oldPid);
    const etcdPid = await componentPid('etcd');

    await stopKubeApiserver();
    try {
      assert.ok(await refused(endpoints.kubeApiserverPort), 'the port refuses connections');
      await assert.rejects(core.readNamespacedConfigMap({ namespace, name: 'kept' }));
      assert.equal(await componentPid('kube-apiserver'), undefined, 'the process is gone');
      assert.equal(await componentPid('etcd'), etcdPid, 'etcd still runs');
    } finally {
      await startKubeApiserver();
    }

    const after = await core.readNamespacedConfigMap({ namespace, name: 'kept' });
    assert.equal(after.metadata?.uid, before.metadata?.uid);
    assert.deepEqual(after.data, { value: 'survives' });
    const newPid = await componentPid('kube-apiserver');
    assert.ok(newPid !== undefined && newPid !== oldPid, `a new process recorded where kwokctl keeps it (${newPid})`);
    assert.equal(await commandLine(newPid), oldCommand, 'the same binary and arguments');
    // Scheduler, controller-manager and KWOK are connected again: a pod is scheduled and runs.
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: 'after' }, spec: { containers: [{ name: 'c', image: 'registry.example/c:1' }] } },
    });
    await watchUntil<k8s.V1Pod>(
      kc,
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (pod) => pod.metadata?.name === 'after' && pod.status?.phase === 'Running',
      60_000,
    );
  });
});

test('Temporal SIGKILLed and started again on the same database file: a workflow started before the kill is there after it and completes', async () => {
  await withNamespace('fault-temporal', async (namespace, kc) => {
    const taskQueue = `fault-temporal-${randomBytes(4).toString('hex')}`;
    const workflowId = `fault-temporal-${namespace}`;
    const connect = () => Connection.connect({ address: endpoints.temporalAddress });
    const before = new Client({ connection: await connect() });
    // No worker yet: the workflow waits, in the database only, for its first task.
    const handle = await before.workflow.start(configMapRoundTrip, {
      taskQueue,
      workflowId,
      args: [namespace, 'temporal-fault', 'kept'],
    });
    await before.connection.close();
    const oldPid = (await readPid(paths.temporalPid))!;

    await killTemporal();
    try {
      assert.ok(await refused(Number(endpoints.temporalAddress.split(':')[1])), 'the frontend port refuses');
      assert.equal(await readPid(paths.temporalPid), undefined, 'the process is gone');
    } finally {
      await startTemporalAgain();
    }
    const newPid = await readPid(paths.temporalPid);
    assert.ok(newPid !== undefined && newPid !== oldPid, 'a new server, recorded in the pid file `stack down` reads');

    const client = new Client({ connection: await connect() });
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      assert.equal(description.runId, handle.firstExecutionRunId, 'the same run');
      assert.equal(description.status.name, 'RUNNING');
      const connection = await NativeConnection.connect({ address: endpoints.temporalAddress });
      try {
        const worker = await Worker.create({
          connection,
          taskQueue,
          activities,
          workflowsPath: fileURLToPath(new URL('../fixtures/smokeWorkflows.ts', import.meta.url)),
        });
        const result = await worker.runUntil(client.workflow.getHandle<typeof configMapRoundTrip>(workflowId).result());
        assert.equal(result.value, 'kept');
      } finally {
        await connection.close();
      }
      const stored = await kc
        .makeApiClient(k8s.CoreV1Api)
        .readNamespacedConfigMap({ namespace, name: 'temporal-fault' });
      assert.equal(stored.data?.value, 'kept');
    } finally {
      await client.connection.close();
    }
  });
});
