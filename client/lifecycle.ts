/**
 * What every command needs: the SymbolNode (for its uid) and a handle on its lifecycle workflow, plus the
 * translation of the failures a person can meet (no such node, no workflow, Temporal down) into one line.
 */
import * as k8s from '@kubernetes/client-node';
import {
  Client,
  Connection,
  NamespaceNotFoundError,
  QueryNotRegisteredError,
  QueryRejectedError,
  ServiceError,
  WorkflowNotFoundError,
  isGrpcDeadlineError,
  isGrpcServiceError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { NodeRef } from '../activities/types.js';
import { describeApiError, loadKubeConfig, readIfExists } from '../k8s/client.js';
import { symbolNodeGroup, symbolNodePlural, symbolNodeVersion, type SymbolNode } from '../k8s/symbolNode.js';
import { loadOperatorConfig } from '../worker/config.js';
import { temporalConnectOptions } from '../worker/temporalConnection.js';
import { nodeLifecycleWorkflowId } from '../workflows/nodeLifecycle.js';

/** An error the user caused or can fix: printed as one line, exit code 1. */
export class CliError extends Error {}

/** How long a signal or query may take; a query waits for the operator's worker to answer it. */
const callTimeoutMs = 10_000;
/** gRPC status UNAVAILABLE: the server went away after the connection was made. */
const grpcUnavailable = 14;

export interface Lifecycle {
  ref: NodeRef;
  workflowId: string;
  handle: WorkflowHandle;
  /** Runs a call on the workflow with a deadline, turning Temporal's failures into a {@link CliError}. */
  call<T>(what: string, fn: (handle: WorkflowHandle) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const messageOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  return cause && !message.includes(cause) ? `${message}: ${cause}` : message;
};

async function readUid(kubeconfig: string | undefined, namespace: string, name: string): Promise<string> {
  let custom: k8s.CustomObjectsApi;
  try {
    custom = loadKubeConfig(kubeconfig).makeApiClient(k8s.CustomObjectsApi);
  } catch (error) {
    throw new CliError(`cannot load the kubeconfig${kubeconfig ? ` ${kubeconfig}` : ''}: ${messageOf(error)}`);
  }
  let node: SymbolNode | undefined;
  try {
    node = (await readIfExists(() =>
      custom.getNamespacedCustomObject({
        group: symbolNodeGroup,
        version: symbolNodeVersion,
        plural: symbolNodePlural,
        namespace,
        name,
      }),
    )) as SymbolNode | undefined;
  } catch (error) {
    throw new CliError(`cannot read SymbolNode ${namespace}/${name}: ${describeApiError(error)}`);
  }
  const uid = node?.metadata?.uid;
  if (!uid) throw new CliError(`SymbolNode ${namespace}/${name} not found`);
  return uid;
}

/** Finds the SymbolNode and connects to Temporal; the caller closes the result. */
export async function openLifecycle(
  namespace: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Lifecycle> {
  let config: ReturnType<typeof loadOperatorConfig>;
  try {
    config = loadOperatorConfig(env);
  } catch (error) {
    throw new CliError(messageOf(error));
  }
  const ref: NodeRef = { namespace, name, uid: await readUid(config.kubeconfig, namespace, name) };
  const workflowId = nodeLifecycleWorkflowId(ref);
  const address = config.temporalAddress;
  let connectOptions: Awaited<ReturnType<typeof temporalConnectOptions>>;
  try {
    connectOptions = await temporalConnectOptions(config);
  } catch (error) {
    throw new CliError(messageOf(error));
  }
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...connectOptions, connectTimeout: '5 seconds' });
  } catch (error) {
    throw new CliError(`cannot reach Temporal at ${address}: ${messageOf(error)}`);
  }
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const handle = client.workflow.getHandle(workflowId);
  return {
    ref,
    workflowId,
    handle,
    async call(what, fn) {
      try {
        return await connection.withDeadline(Date.now() + callTimeoutMs, () => fn(handle));
      } catch (error) {
        throw explainTemporalError(error, what, workflowId, address, config.temporalNamespace);
      }
    },
    close: () => connection.close(),
  };
}

/** Temporal's failures as the one line a person needs; anything else is a bug and keeps its stack. */
export function explainTemporalError(
  error: unknown,
  what: string,
  workflowId: string,
  address: string,
  temporalNamespace: string,
): unknown {
  if (error instanceof WorkflowNotFoundError) {
    // The server says more than "not found" when the workflow has ended (the SymbolNode is being deleted).
    const detail = error.message.includes(workflowId) ? '' : ` (${error.message})`;
    return new CliError(
      `${what} failed: workflow ${workflowId} not found in Temporal namespace ${temporalNamespace}${detail}; is the operator watching this namespace?`,
    );
  }
  if (error instanceof NamespaceNotFoundError) {
    return new CliError(`${what} failed: Temporal at ${address} has no namespace ${temporalNamespace}`);
  }
  if (error instanceof QueryNotRegisteredError || error instanceof QueryRejectedError) {
    return new CliError(`${what} failed: workflow ${workflowId} did not answer: ${error.message}`);
  }
  if (error instanceof ServiceError || isGrpcServiceError(error)) {
    const grpc = isGrpcServiceError(error) ? error : isGrpcServiceError(error.cause) ? error.cause : undefined;
    if (isGrpcDeadlineError(error)) {
      return new CliError(
        `${what} failed: no answer from workflow ${workflowId} within ${callTimeoutMs / 1000} s; is the operator running?`,
      );
    }
    if ((grpc?.code as number | undefined) === grpcUnavailable) {
      return new CliError(`cannot reach Temporal at ${address}: ${grpc?.details}`);
    }
    return new CliError(`${what} failed: ${grpc?.details ?? messageOf(error)}`);
  }
  return error;
}
