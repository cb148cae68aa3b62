// The one home of the remediation rules: what is wrong with a pod, what the operator does about it, and which
// failures it tries again later by itself. Pure code, safe in the workflow bundle (client-node is type-only here).
export * from './kinds.js';
export * from './classify.js';
export * from './summary.js';
export * from './policy.js';
export * from './failureRules.js';
export { summariseTerminationMessage, MAX_LOG_DETAIL } from './terminationMessage.js';
export * from './alerting.js';
