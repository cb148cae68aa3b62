import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { describeApiError, type KubeClients } from '../k8s/client.js';
import { classifyKubernetesError, describeTransientError, isKubernetesError } from '../k8s/errors.js';
import type { RecoveryJobOptions } from '../k8s/objects/recoveryJob.js';
import type { SymbolNodeSpec } from '../k8s/symbolNode.js';
import type { OperatorConfig } from '../worker/config.js';
import { NetworkPackageCache } from './networkPackages.js';
import type { OperatorWatches } from './sharedWatch.js';
import type { AlertOutcome, AlertRequest, WebhookAlerts } from './alerts.js';
import {
  createRecoveryJobFor,
  startNodeFor,
  stopNodeFor,
  waitForRecoveryJobFor,
  type RecoveryJobResult,
  type StopNodeResult,
} from './remediation.js';
import { ensureNodeConfigurationFor } from './nodeConfiguration.js';
import { ensureNodeIdentityFor } from './nodeIdentity.js';
import { asParsedNode, KnownNodes, readSymbolNodeFrom, reportNodeStatusTo, type ValidNode } from './symbolNodes.js';
import type { NodeConfiguration, NodeIdentity, NodeRef, StatusReport } from './types.js';
import { applyNodeWorkloadsFor, waitForNodeReadyFor } from './workloads.js';

export interface ActivityDependencies {
  kube: KubeClients;
  /** Shared watches for the activities' waits; owned (started lazily, stopped) by the operator process. */
  watches: OperatorWatches;
  alerts: WebhookAlerts;
  config: Pick<OperatorConfig, 'operatorImage' | 'networkPackageOverrides'> &
    Partial<Pick<OperatorConfig, 'networkPackageSources'>>;
}

/**
 * Every activity the operator's workflows call, bound to their dependencies. Inputs and results
 * are public data: activities that create private keys store them in Secrets themselves.
 */
/**
 * Kubernetes errors leave an activity classified, once for all of them: `KubernetesUnavailable` (retryable; the
 * workflows retry it without limit) when the API server is down, overloaded or unreachable, `KubernetesRejected`
 * (not retryable; recorded, then the lifecycle waits for a spec change) when it refuses our input. A client
 * error carries the whole HTTP exchange: history, status and Events get one line instead, never a body.
 * Failures the activities typed themselves pass unchanged.
 */
const TRANSIENT_ATTEMPTS = 3;

function attemptNow(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // called outside an activity (tools, tests)
  }
}

function withClassifiedErrors<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await activity(...args);
    } catch (error) {
      if (error instanceof ApplicationFailure || !isKubernetesError(error)) throw error;
      const kind = classifyKubernetesError(error);
      if (kind === 'transient') {
        throw ApplicationFailure.create({
          type: 'KubernetesUnavailable',
          message: describeTransientError(error),
          details: ['KubernetesUnavailable'],
          // A blip is retried here; a longer outage goes to the workflow, which waits it out without limit and
          // writes what happened on the SymbolNode once the API answers (workflows/durableStep.ts).
          nonRetryable: attemptNow() >= TRANSIENT_ATTEMPTS,
        });
      }
      const reason = error instanceof k8s.ApiException ? `KubernetesApi${error.code}` : 'KubernetesApiError';
      throw ApplicationFailure.create({
        // A missing or changed object may be a race with another writer: a few more tries tell.
        type: kind === 'permanent' ? 'KubernetesRejected' : 'KubernetesApiError',
        message: describeApiError(error),
        details: [reason],
        nonRetryable: kind === 'permanent',
      });
    }
  };
}

export function createNodeActivities(dependencies: ActivityDependencies): ReturnType<typeof nodeActivities> {
  const activities: Record<string, (...args: never[]) => Promise<unknown>> = nodeActivities(dependencies);
  for (const [name, activity] of Object.entries(activities)) activities[name] = withClassifiedErrors(activity);
  return activities as ReturnType<typeof nodeActivities>;
}

function nodeActivities({ kube, watches, alerts, config }: ActivityDependencies) {
  const packages = new NetworkPackageCache(kube, config.networkPackageOverrides, config.networkPackageSources);
  const parsed = asParsedNode;
  const known = new KnownNodes();
  return {
    async readSymbolNode(ref: NodeRef): Promise<ValidNode> {
      return readSymbolNodeFrom(kube, known, ref);
    },
    async reportNodeStatus(ref: NodeRef, report: StatusReport): Promise<void> {
      return reportNodeStatusTo(kube, known, ref, report);
    },
    async ensureNodeIdentity(ref: NodeRef, spec: SymbolNodeSpec): Promise<NodeIdentity> {
      return ensureNodeIdentityFor(kube, parsed(ref, spec));
    },
    async ensureNodeConfiguration(
      ref: NodeRef,
      spec: SymbolNodeSpec,
      identity?: NodeIdentity,
    ): Promise<NodeConfiguration> {
      return ensureNodeConfigurationFor(kube, packages, parsed(ref, spec), identity);
    },
    async applyNodeWorkloads(
      ref: NodeRef,
      spec: SymbolNodeSpec,
      configuration: NodeConfiguration,
      identity?: NodeIdentity,
    ): Promise<void> {
      return applyNodeWorkloadsFor(kube, config.operatorImage, parsed(ref, spec), configuration, identity);
    },
    async waitForNodeReady(ref: NodeRef): Promise<void> {
      return waitForNodeReadyFor(watches.statefulSets, ref);
    },
    async stopNode(ref: NodeRef): Promise<StopNodeResult> {
      return stopNodeFor(kube, watches.pods, ref);
    },
    async startNode(ref: NodeRef): Promise<void> {
      return startNodeFor(kube, ref);
    },
    async createRecoveryJob(ref: NodeRef, spec: SymbolNodeSpec, job: RecoveryJobOptions): Promise<string> {
      return createRecoveryJobFor(kube, parsed(ref, spec), job);
    },
    async waitForRecoveryJob(ref: NodeRef, job: string): Promise<RecoveryJobResult> {
      return waitForRecoveryJobFor(kube, watches.jobs, ref.namespace, job);
    },
    async sendAlert(request: AlertRequest): Promise<AlertOutcome> {
      return alerts.send(request);
    },
  };
}

export type NodeActivities = ReturnType<typeof createNodeActivities>;
