import * as k8s from '@kubernetes/client-node';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between an operator and kube-apiserver (TLS passes through untouched) that a test can cut: while
 * cut, nothing listens on its port and every open connection is reset, exactly what a client sees of an API
 * server that went away; restored, it relays again on the same port. It affects only the operator given its
 * kubeconfig ({@link ApiProxy.kubeConfig}), so other tests on the shared stack are untouched.
 */
export class ApiProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(target: string): Promise<ApiProxy> {
    const url = new URL(target);
    const proxy = new ApiProxy(url.hostname, Number(url.port || 443));
    await proxy.listen();
    return proxy;
  }

  /** `base` (credentials, CA) with its server replaced by this relay. */
  kubeConfig(base: k8s.KubeConfig): k8s.KubeConfig {
    const cluster = base.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const server = new URL(cluster.server);
    server.port = String(this.port);
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...cluster, server: server.toString().replace(/\/$/, '') }],
      users: base.users,
      contexts: base.contexts,
      currentContext: base.getCurrentContext(),
    });
    return kc;
  }

  /** The API server "goes away": connections refused, open ones reset. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
}
