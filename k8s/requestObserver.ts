/**
 * Every request the operator makes to the Kubernetes API, whatever made it (the generated API clients, the
 * KubernetesObjectApi, the informers' list and watch), goes through an HTTP agent that the KubeConfig creates
 * (`createAgent`, made reusable by client.ts `reuseConnections`). Observing the agents therefore sees them all
 * at one place, without wrapping each client. Only method, path and status are looked at: never a body.
 */
import type * as k8s from '@kubernetes/client-node';
import type * as http from 'node:http';

export interface KubernetesRequest {
  /** Kubernetes' verb: get, list, watch, create, update, patch, delete, deletecollection (else the method). */
  verb: string;
  /** The HTTP status, or `error` when no response came (refused, reset, timed out, aborted). */
  code: string;
  /** Until the response's headers (for a watch: until it is established). */
  seconds: number;
}

type AgentFactory = (cluster: k8s.Cluster | null, options: unknown) => http.Agent;
type AddRequest = (request: http.ClientRequest, options: unknown) => void;

const observed = new WeakSet<http.Agent>();

/** Calls `observe` once for every request made through agents this KubeConfig creates from now on. */
export function observeKubernetesRequests(kc: k8s.KubeConfig, observe: (request: KubernetesRequest) => void): void {
  const factory = kc as unknown as { createAgent: AgentFactory };
  const create = factory.createAgent.bind(kc);
  factory.createAgent = (cluster, options) => {
    const agent = create(cluster, options);
    // reuseConnections hands out the same agent again: instrument it once.
    if (!observed.has(agent)) {
      observed.add(agent);
      const agentWithRequests = agent as unknown as { addRequest: AddRequest };
      const addRequest = agentWithRequests.addRequest.bind(agent);
      agentWithRequests.addRequest = (request, requestOptions) => {
        watchRequest(request, observe);
        addRequest(request, requestOptions);
      };
    }
    return agent;
  };
}

function watchRequest(request: http.ClientRequest, observe: (request: KubernetesRequest) => void): void {
  const started = process.hrtime.bigint();
  const verb = kubernetesVerb(request.method, request.path);
  let done = false;
  const finish = (code: string): void => {
    if (done) return;
    done = true;
    // An observer's failure must not break the request.
    try {
      observe({ verb, code, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    } catch {
      // ignored: metrics are best effort
    }
  };
  request.once('response', (response: http.IncomingMessage) => finish(String(response.statusCode ?? 'error')));
  request.once('error', () => finish('error'));
  request.once('close', () => finish('error'));
}

/**
 * The verb as the API server names it (its RequestInfo): GET on one object is `get`, on a collection `list`,
 * with `watch=true` `watch`; DELETE on a collection `deletecollection`.
 */
export function kubernetesVerb(method: string, path: string): string {
  const [pathname = '', query = ''] = path.split('?');
  const upper = method.toUpperCase();
  const params = new URLSearchParams(query);
  const named = namesOneObject(pathname);
  switch (upper) {
    case 'GET':
    case 'HEAD':
      if (params.get('watch') === 'true' || params.get('watch') === '1') return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return upper.toLowerCase();
  }
}

/** Whether `/api/v1/...` or `/apis/<group>/<version>/...` addresses one object rather than a collection. */
function namesOneObject(pathname: string): boolean {
  const segments = pathname.split('/').filter(Boolean);
  let rest: string[];
  if (segments[0] === 'api') rest = segments.slice(2);
  else if (segments[0] === 'apis') rest = segments.slice(3);
  else return false;
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    // `/namespaces/<name>` is the Namespace itself; anything below is a resource in it.
    if (rest.length === 2) return true;
    rest = rest.slice(2);
  }
  return rest.length >= 2;
}
