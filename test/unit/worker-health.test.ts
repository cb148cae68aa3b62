import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';

import { startHealthServer, type HealthState } from '../../worker/health.js';

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text() };
}

describe('health endpoints', () => {
  it('answers /healthz while live and /readyz only once ready', async () => {
    let state: HealthState = { live: true, ready: false, detail: 'starting' };
    const server = await startHealthServer({ port: 0, address: '127.0.0.1', state: () => state });
    try {
      assert.deepEqual(await get(server.port, '/healthz'), { status: 200, body: 'ok: starting\n' });
      assert.deepEqual(await get(server.port, '/readyz'), { status: 503, body: 'not ok: starting\n' });

      state = { live: true, ready: true, detail: 'worker RUNNING, watchers synced' };
      assert.equal((await get(server.port, '/readyz')).status, 200);
      assert.equal((await get(server.port, '/readyz?verbose')).status, 200);
      assert.equal((await get(server.port, '/healthz', 'HEAD')).status, 200);

      // A failed worker is neither live nor ready, even if the rest claims readiness.
      state = { live: false, ready: true, detail: 'worker FAILED (boom)' };
      assert.deepEqual(await get(server.port, '/healthz'), { status: 503, body: 'not ok: worker FAILED (boom)\n' });
      assert.equal((await get(server.port, '/readyz')).status, 503);

      assert.equal((await get(server.port, '/metrics')).status, 404);
      assert.equal((await get(server.port, '/healthz', 'POST')).status, 405);
    } finally {
      await server.close();
    }
  });

  it('reports a throwing state as not live', async () => {
    const server = await startHealthServer({
      port: 0,
      address: '127.0.0.1',
      state: () => {
        throw new Error('broken');
      },
    });
    try {
      const answer = await get(server.port, '/healthz');
      assert.equal(answer.status, 503);
      assert.match(answer.body, /health check failed: Error: broken/);
    } finally {
      await server.close();
    }
  });

  it('fails in one line naming the setting when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startHealthServer({ port, address: '127.0.0.1', state: () => ({ live: true, ready: true, detail: '' }) }),
        new RegExp(`health server cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\); set SNO_HEALTH_PORT`),
      );
    } finally {
      blocker.close();
    }
  });
});
