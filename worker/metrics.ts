/**
 * The operator's Prometheus metrics, served on the health port's /metrics (worker/health.ts):
 * - its own, kept here with prom-client (`symbol_operator_*`: informers, Kubernetes requests, nodes by phase)
 *   plus Node's process metrics (`process_*`, `nodejs_*`);
 * - the Temporal SDK's, which Core exports itself (`temporal_*`: workflow and activity tasks, polls, slots,
 *   request latencies) together with the counters workflows emit through workflows/metrics.ts
 *   (`symbol_operator_remediations_total`, `…_alerts_sent_total`, `…_workflows_started_total`,
 *   `…_workflows_failed_total`). Core serves them on a loopback port of its own; /metrics appends that text, so
 *   that one endpoint is scraped.
 */
import { createServer } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PHASES } from '../k8s/conditions.js';
import type { KubernetesRequest } from '../k8s/requestObserver.js';

export const metricPrefix = 'symbol_operator_';

export interface OperatorMetrics {
  informerRestarts: Counter<'informer'>;
  informerHealthy: Gauge<'informer'>;
  kubernetesRequests: Counter<'verb' | 'code'>;
  kubernetesRequestSeconds: Histogram<'verb'>;
  /** Set on every scrape from the source given to `setNodesByPhaseSource` (the SymbolNode cache). */
  nodesByPhase: Gauge<'phase'>;
  /** 1 when the last scrape got the Temporal SDK's metrics, else 0. */
  temporalMetricsUp: Gauge;
}

/** Counts of SymbolNodes by status.phase (a node without a phase yet under `Pending` or the like). */
export type NodesByPhaseSource = () => Record<string, number> | Map<string, number>;

export interface MetricsSet {
  registry: Registry;
  metrics: OperatorMetrics;
  /** Where nodesByPhase comes from; unset, the gauge is absent. */
  setNodesByPhaseSource: (source: NodesByPhaseSource | undefined) => void;
  recordKubernetesRequest: (request: KubernetesRequest) => void;
}

/** A registry with the operator's metrics; the process has one (below), tests make their own. */
export function createOperatorMetrics(registry = new Registry()): MetricsSet {
  let nodesSource: NodesByPhaseSource | undefined;
  const registers = [registry];
  const metrics: OperatorMetrics = {
    informerRestarts: new Counter({
      name: `${metricPrefix}informer_restarts_total`,
      help: 'Restarts of a Kubernetes informer (its watch ended or failed), by informer',
      labelNames: ['informer'],
      registers,
    }),
    informerHealthy: new Gauge({
      name: `${metricPrefix}informer_healthy`,
      help: '1 while an informer has listed and is watching, 0 while it is restarting, by informer',
      labelNames: ['informer'],
      registers,
    }),
    kubernetesRequests: new Counter({
      name: `${metricPrefix}kubernetes_requests_total`,
      help: 'Requests to the Kubernetes API, by verb and HTTP status (code="error": no response)',
      labelNames: ['verb', 'code'],
      registers,
    }),
    kubernetesRequestSeconds: new Histogram({
      name: `${metricPrefix}kubernetes_request_duration_seconds`,
      help: 'Time until the Kubernetes API answered (for a watch: until it was established), by verb',
      labelNames: ['verb'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    nodesByPhase: new Gauge({
      name: `${metricPrefix}nodes`,
      help: 'SymbolNodes this operator watches, by status.phase',
      labelNames: ['phase'],
      registers,
      collect() {
        this.reset();
        if (!nodesSource) return;
        // Every known phase appears, at 0 when empty, so that a dashboard shows a phase emptying.
        for (const phase of PHASES) this.set({ phase }, 0);
        const counts = nodesSource();
        for (const [phase, count] of counts instanceof Map ? counts : Object.entries(counts))
          this.set({ phase }, count);
      },
    }),
    temporalMetricsUp: new Gauge({
      name: `${metricPrefix}temporal_metrics_up`,
      help: "1 when /metrics could include the Temporal SDK's own metrics, else 0",
      registers,
    }),
  };
  return {
    registry,
    metrics,
    setNodesByPhaseSource: (source) => {
      nodesSource = source;
    },
    recordKubernetesRequest: ({ verb, code, seconds }) => {
      metrics.kubernetesRequests.inc({ verb, code });
      metrics.kubernetesRequestSeconds.observe({ verb }, seconds);
    },
  };
}

const processMetrics = createOperatorMetrics();
collectDefaultMetrics({ register: processMetrics.registry });

/** The process's registry (its metrics are module singletons: a second operator in the process shares them). */
export const metricsRegistry = processMetrics.registry;
export const operatorMetrics = processMetrics.metrics;
export const setNodesByPhaseSource = processMetrics.setNodesByPhaseSource;
export const recordKubernetesRequest = processMetrics.recordKubernetesRequest;

export interface MetricsResponse {
  contentType: string;
  body: string;
}

/**
 * The text /metrics answers: the registry's metrics, then the Temporal SDK's from Core's exporter at
 * `temporalMetricsUrl` (when given). Core unreachable: the operator's own metrics still come, with
 * `symbol_operator_temporal_metrics_up 0`.
 */
export async function renderMetrics(
  options: { set?: MetricsSet; temporalMetricsUrl?: string; timeoutMs?: number } = {},
): Promise<MetricsResponse> {
  const set = options.set ?? processMetrics;
  let temporal = '';
  if (options.temporalMetricsUrl) {
    try {
      const response = await fetch(options.temporalMetricsUrl, {
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      temporal = await response.text();
      set.metrics.temporalMetricsUp.set(1);
    } catch {
      set.metrics.temporalMetricsUp.set(0);
    }
  }
  const own = await set.registry.metrics();
  const body = temporal ? `${own.endsWith('\n') ? own : `${own}\n`}${temporal}` : own;
  return { contentType: set.registry.contentType, body };
}

/**
 * A free loopback port for Core's exporter, which must be given an address before it binds (it cannot report
 * the port of `:0`). Another process could take it in between: the exporter then fails to start and the
 * operator says so at start.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no loopback port');
  return address.port;
}
