import { INPUT_ERROR_RULES, type InputErrorReason } from '../../k8s/conditions.js';

export { INPUT_ERROR_RULES, type InputErrorReason };

/**
 * True for a provisioning failure that something outside the spec fixes (k8s/conditions.ts INPUT_ERROR_RULES):
 * the lifecycle tries again now and then by itself instead of waiting for a spec change.
 */
export function retriesLater(reason: string): boolean {
  return (
    Object.prototype.hasOwnProperty.call(INPUT_ERROR_RULES, reason) &&
    INPUT_ERROR_RULES[reason as InputErrorReason].retryLater
  );
}
