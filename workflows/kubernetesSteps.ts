import {
  ActivityFailure,
  ApplicationFailure,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import { nonRetryableErrorTypes } from '../activities/types.js';

/** Retries of a Kubernetes step: quick at first, never for errors that need a changed input. */
export const kubernetesRetry = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 10,
  nonRetryableErrorTypes: [...nonRetryableErrorTypes],
};

// Each step is a handful of Kubernetes API calls that take milliseconds (seconds for a loaded API
// server, hence the generous timeout: a retry would only add load): local activities run them
// in the worker without a round trip through the server per step (they still appear in the history
// as markers, and are retried, and re-run by another worker after a crash — they are idempotent).
export const kubernetesStepOptions: LocalActivityOptions = {
  startToCloseTimeout: '60 seconds',
  localRetryThreshold: '10 seconds',
  retry: kubernetesRetry,
};

// Waiting for the pod can take minutes (image pulls, scheduling): a regular, heartbeating activity
// that a crashed worker's successor resumes. Each attempt waits up to 5 minutes, then fails with where the
// rollout stands (the UI shows it); shorter attempts filled the worker's log with failures during bursts.
export const waitForNodeReadyOptions: ActivityOptions = {
  startToCloseTimeout: '6 minutes',
  heartbeatTimeout: '15 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 1, nonRetryableErrorTypes: [...nonRetryableErrorTypes] },
};

/**
 * What a failed step tells: its error type, the condition reason (the precise one an activity attached, e.g.
 * UnknownNetwork, else the type) and the message. Errors that are not application failures get `fallbackType`.
 */
export function failureOf(error: unknown, fallbackType: string): { type: string; reason: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'Error';
    const detail = cause.details?.[0];
    return { type, reason: typeof detail === 'string' ? detail : type, message: cause.message };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type: fallbackType, reason: fallbackType, message };
}
