/**
 * `/healthz` and `/readyz` for the Deployment's probes. Liveness answers as long as the event loop turns and the
 * worker has not failed (a blocked loop cannot answer, so the probe times out); readiness waits until the Temporal
 * worker polls and every informer of the Kubernetes cache has listed and is watching (one restarting after an error
 * makes the operator not ready, and the answer names it, its restarts and its last error).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthState {
  /** false: the kubelet should restart the process. */
  live: boolean;
  /** false: not (yet, or no longer) doing its work. */
  ready: boolean;
  /** One line for a person reading the probe's answer, e.g. `worker RUNNING, watchers synced`. */
  detail: string;
}

export interface HealthServer {
  /** The port bound (useful when 0 asked for any free one). */
  port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  address: string;
  state: () => HealthState;
  /** Prometheus' text for `/metrics` (worker/metrics.ts renderMetrics); unset: no such route. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics' && options.metrics) {
      serveMetrics(options.metrics, response);
      return;
    }
    if (path !== '/healthz' && path !== '/readyz') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    let state: HealthState;
    try {
      state = options.state();
    } catch (error) {
      state = { live: false, ready: false, detail: `health check failed: ${String(error)}` };
    }
    const ok = path === '/healthz' ? state.live : state.live && state.ready;
    response
      .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
      .end(`${ok ? 'ok' : 'not ok'}: ${state.detail}\n`);
  });
  // Probes open a new connection each time; idle keep-alive sockets must not hold a shutdown.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `health server cannot listen on ${options.address}:${options.port} (${error.code ?? error.message}); set SNO_HEALTH_PORT`,
        ),
      ),
    );
    server.listen(options.port, options.address, () => resolve());
  });
  // Not a reason to keep the process alive on its own.
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function serveMetrics(metrics: NonNullable<HealthServerOptions['metrics']>, response: ServerResponse): void {
  metrics().then(
    ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
    (error: unknown) =>
      response
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
  );
}
