/**
 * `npm start`: the operator on the embedded local stack. Brings the stack up (building it on a
 * fresh machine), points the operator at it and runs it in this process.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackUp } from '../stack/stack.js';
import { createLogger, logLevelFromEnv } from './log.js';
import { runOperator } from './main.js';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
// Offline machines (CI, this project's workplace) have the public sai package beside the checkout.
const sharedSaiPackage = resolve(repoRoot, '../shared/networks/sai.zip');

const logger = createLogger({ level: logLevelFromEnv() });
const stackLog = logger.child({ component: 'stack' });
const info = await stackUp((line) => stackLog.info(line));
process.env.SNO_KUBECONFIG ??= info.kubeconfig;
process.env.TEMPORAL_ADDRESS ??= info.temporalAddress;
// The dev operator runs as the cluster admin and keeps the CRD current; the production entry leaves it to the installer.
process.env.SNO_INSTALL_CRDS ??= 'true';
if (!process.env.SNO_NETWORK_PACKAGE_SAI && existsSync(sharedSaiPackage))
  process.env.SNO_NETWORK_PACKAGE_SAI = sharedSaiPackage;
stackLog.info('stack ready', { temporalUi: info.temporalUi, kubeconfig: info.kubeconfig });
await runOperator(logger);
