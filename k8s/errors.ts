/**
 * What a failed Kubernetes request means for the caller: try again later (`transient`: the API server is down,
 * overloaded or restarting), the object is missing or changed under us (`notFound`, `conflict`), or the API
 * refused our input and will refuse it again (`permanent`).
 */
import * as k8s from '@kubernetes/client-node';

export type KubernetesErrorClass = 'transient' | 'permanent' | 'notFound' | 'conflict';

// Socket-level failures of node-fetch/undici and Node's net module: the request never got an answer.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const NETWORK_MESSAGES = /socket hang up|premature close|network timeout|response timeout|other side closed/i;

/** Timeouts, throttling and server-side failures: the same request may succeed later. */
function transientStatus(code: number): boolean {
  return code >= 500 || code === 429 || code === 408;
}

/** The error and its causes (fetch libraries wrap the socket error), nearest first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current = error;
  while (current !== undefined && current !== null && chain.length < 5 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The socket-level code behind a request that got no answer (ECONNREFUSED, …), if that is what happened. */
export function networkErrorCode(error: unknown): string | undefined {
  for (const e of causes(error)) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, name, message, type } = e as { code?: unknown; name?: unknown; message?: unknown; type?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (name === 'AbortError' || name === 'TimeoutError') return 'Timeout';
    // node-fetch's FetchError: type 'system' carries the socket error's code; 'request-timeout'/'body-timeout'.
    if (name === 'FetchError' && typeof type === 'string' && type !== 'invalid-json') {
      return typeof code === 'string' && code ? code : type;
    }
    if (typeof message === 'string' && NETWORK_MESSAGES.test(message)) return 'ConnectionClosed';
  }
  return undefined;
}

export function classifyKubernetesError(error: unknown): KubernetesErrorClass {
  if (error instanceof k8s.ApiException) {
    const code = Number(error.code);
    if (transientStatus(code)) return 'transient';
    if (code === 404) return 'notFound';
    if (code === 409) return 'conflict';
    return 'permanent';
  }
  return networkErrorCode(error) !== undefined ? 'transient' : 'permanent';
}

/** True for errors of the Kubernetes API or of the connection to it, as opposed to the operator's own bugs. */
export function isKubernetesError(error: unknown): boolean {
  return error instanceof k8s.ApiException || networkErrorCode(error) !== undefined;
}

/**
 * One line about a transient failure, for history, status and Events: the status code or socket error only,
 * never a response body (a Secret's read would carry its data) or headers.
 */
export function describeTransientError(error: unknown): string {
  if (error instanceof k8s.ApiException) return `the Kubernetes API answered ${error.code}`;
  return `the Kubernetes API could not be reached (${networkErrorCode(error) ?? 'network error'})`;
}
