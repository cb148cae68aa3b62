// The worker's workflow bundle entry point: every workflow type the operator runs.
export { nodeLifecycle } from './nodeLifecycle.js';
export { provisionNode } from './provisionNode.js';
export { remediateNode } from './remediateNode.js';
