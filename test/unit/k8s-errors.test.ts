import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { classifyKubernetesError, describeTransientError, isKubernetesError } from '../../k8s/errors.js';
import { closedPort } from '../support/ports.js';

const apiError = (code: number, body: unknown = { message: 'nope' }) =>
  new k8s.ApiException(code, 'failed', body, { 'content-type': 'application/json' });

function clientFor(port: number): k8s.CoreV1Api {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config.makeApiClient(k8s.CoreV1Api);
}

/** What the real client throws for a request that `server` (or nothing) answers. */
async function errorOf(port: number): Promise<unknown> {
  try {
    await clientFor(port).readNamespace({ name: 'default' });
  } catch (error) {
    return error;
  }
  assert.fail('the request succeeded');
}

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));
async function serve(onConnection: (socket: import('node:net').Socket) => void): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('classifyKubernetesError', () => {
  it('retries 5xx, 429 and 408 (overloaded, throttled, timed out)', () => {
    for (const code of [500, 502, 503, 504, 429, 408])
      assert.equal(classifyKubernetesError(apiError(code)), 'transient');
  });
  it('tells a missing object and a conflict apart from other refusals', () => {
    assert.equal(classifyKubernetesError(apiError(404)), 'notFound');
    assert.equal(classifyKubernetesError(apiError(409)), 'conflict');
    for (const code of [400, 401, 403, 410, 413, 422])
      assert.equal(classifyKubernetesError(apiError(code)), 'permanent');
  });
  it('retries a refused connection, as the real client reports it', async () => {
    const error = await errorOf(await closedPort());
    assert.equal(isKubernetesError(error), true);
    assert.equal(classifyKubernetesError(error), 'transient');
    assert.match(describeTransientError(error), /could not be reached \(ECONNREFUSED\)/);
  });
  it('retries a connection the server drops (reset, socket hang up)', async () => {
    const port = await serve((socket) => socket.destroy());
    const error = await errorOf(port);
    assert.equal(classifyKubernetesError(error), 'transient', String(error));
  });
  it('retries a connection closed in the middle of a response (premature close)', async () => {
    const port = await serve((socket) => {
      socket.once('data', () => {
        const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n';
        socket.write(`${head}8\r\n{"kind":\r\n`, () => setTimeout(() => socket.destroy(), 20));
      });
    });
    const error = await errorOf(port);
    assert.match(String(error), /Premature close/);
    assert.equal(classifyKubernetesError(error), 'transient', String(error));
  });
  it('retries timeouts (aborted requests) and socket errors wrapped as a cause', () => {
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    assert.equal(classifyKubernetesError(abort), 'transient');
    const wrapped = new Error('request failed', { cause: Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) });
    assert.equal(classifyKubernetesError(wrapped), 'transient');
    assert.equal(classifyKubernetesError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })), 'transient');
  });
  it('does not take the operator’s own bugs for Kubernetes errors', () => {
    assert.equal(isKubernetesError(new TypeError('cannot read properties of undefined')), false);
    assert.equal(classifyKubernetesError(new TypeError('x')), 'permanent');
  });
  it('says what happened without the response body or headers', () => {
    const error = apiError(503, { message: 'etcd leader changed', data: { key: 'c2VjcmV0' } });
    const text = describeTransientError(error);
    assert.equal(text, 'the Kubernetes API answered 503');
    assert.doesNotMatch(text, /c2VjcmV0|content-type/);
  });
});
