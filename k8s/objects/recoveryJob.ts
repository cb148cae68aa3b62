/**
 * The Job that runs catapult.recovery on a stopped node's data volume (facts §3): same image, same
 * configuration, same volume as the server; for API roles MongoDB runs beside it as a native sidecar, because
 * recovery replays the broker's queues into MongoDB. The operator scales the StatefulSet to zero first: the
 * volume is ReadWriteOnce and recovery assumes server and broker are stopped.
 *
 * One attempt per Job (`backoffLimit: 0`): the remediation workflow owns the retries, so each attempt and its
 * outcome shows in its history.
 */
import type { V1Job, V1Volume } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { isApiRole, type ParsedSymbolNode } from '../symbolNode.js';
import { mongoContainer, mongoInitContainer, recoveryContainer } from './containers.js';
import { RECOVERY_JOB_SCRIPT, VOLUMES } from './layout.js';
import { childMetadata, commonLabels } from './metadata.js';
import { checkName, DATA_VOLUME, objectNames } from './names.js';
import { commonPodSettings, MODE_CONFIG, MODE_SECRET } from './statefulSet.js';

/** The Job controller copies the Job's name into the label `job-name` of its pods: 63 characters at most. */
const JOB_NAME_MAX_LENGTH = 63;
/** Recovery on a large chain reloads the whole state: hours, not minutes. */
export const RECOVERY_JOB_DEADLINE_SECONDS = 6 * 3600;
/** Finished Jobs stay a day for `kubectl logs`, then the TTL controller removes them. */
const RECOVERY_JOB_TTL_SECONDS = 24 * 3600;

/** The remediation workflow run a recovery Job belongs to: its name and its annotations are made of it. */
export interface RecoveryJobOwner {
  workflowId: string;
  runId: string;
}

/** 8 hex digits of the owner: a Job of another remediation (an earlier run, a reset history) never shares it. */
export function recoveryOwnerHash(owner: RecoveryJobOwner): string {
  return createHash('sha256').update(`${owner.workflowId}\n${owner.runId}`).digest('hex').slice(0, 8);
}

/**
 * `<node>-recovery-<run>-<attempt>-<owner hash>`: deterministic for one remediation run, so a retried activity
 * finds the Job it created, and unique per run, so an earlier run's Job (Complete, say) is never taken for this
 * one's. Without an owner (remediations started before owners existed) the hash is left out. A long node name
 * is shortened and made unique again with a hash of the full name.
 */
export function recoveryJobName(nodeName: string, run: number, attempt: number, owner?: RecoveryJobOwner): string {
  const suffix = `-recovery-${run}-${attempt}${owner ? `-${recoveryOwnerHash(owner)}` : ''}`;
  const full = `${nodeName}${suffix}`;
  if (full.length <= JOB_NAME_MAX_LENGTH) return checkName('Job', full, 'dns1123Label', JOB_NAME_MAX_LENGTH);
  const hash = createHash('sha256').update(nodeName).digest('hex').slice(0, 6);
  const head = nodeName.slice(0, JOB_NAME_MAX_LENGTH - suffix.length - hash.length - 1).replace(/-+$/u, '');
  return checkName('Job', `${head}-${hash}${suffix}`, 'dns1123Label', JOB_NAME_MAX_LENGTH);
}

function recoveryVolumes(node: ParsedSymbolNode): V1Volume[] {
  const names = objectNames(node.metadata.name);
  return [
    { name: DATA_VOLUME, persistentVolumeClaim: { claimName: names.dataVolumeClaim } },
    { name: VOLUMES.resources, configMap: { name: names.resourcesConfigMap, defaultMode: MODE_CONFIG } },
    { name: VOLUMES.certificates, secret: { secretName: names.certificatesSecret, defaultMode: MODE_SECRET } },
    { name: VOLUMES.tmp, emptyDir: { sizeLimit: '256Mi' } },
    ...(isApiRole(node.spec.role)
      ? [{ name: VOLUMES.mongoScripts, configMap: { name: names.mongoScriptsConfigMap, defaultMode: MODE_CONFIG } }]
      : []),
  ];
}

export interface RecoveryJobOptions {
  run: number;
  attempt: number;
  /** Why the operator runs recovery (a pod problem's reason), recorded as an annotation. */
  reason: string;
  /** The remediation run that creates the Job: in its name and annotations, checked when the name is taken. */
  owner?: RecoveryJobOwner;
}

export const ANNOTATION_RECOVERY_REASON = 'symbol.nodeoperator.io/recovery-reason';
export const ANNOTATION_RECOVERY_WORKFLOW_ID = 'symbol.nodeoperator.io/recovery-workflow-id';
export const ANNOTATION_RECOVERY_RUN_ID = 'symbol.nodeoperator.io/recovery-run-id';

/** The owner a Job's annotations name, if any. */
export function recoveryJobOwner(job: Pick<V1Job, 'metadata'>): RecoveryJobOwner | undefined {
  const annotations = job.metadata?.annotations ?? {};
  const workflowId = annotations[ANNOTATION_RECOVERY_WORKFLOW_ID];
  const runId = annotations[ANNOTATION_RECOVERY_RUN_ID];
  return workflowId && runId ? { workflowId, runId } : undefined;
}

export function buildRecoveryJob(node: ParsedSymbolNode, options: RecoveryJobOptions): V1Job {
  const api = isApiRole(node.spec.role);
  const name = recoveryJobName(node.metadata.name, options.run, options.attempt, options.owner);
  const owner: Record<string, string> = options.owner
    ? { [ANNOTATION_RECOVERY_WORKFLOW_ID]: options.owner.workflowId, [ANNOTATION_RECOVERY_RUN_ID]: options.owner.runId }
    : {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMetadata(node, name, 'recovery', {
      annotations: { [ANNOTATION_RECOVERY_REASON]: options.reason, ...owner },
    }),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: RECOVERY_JOB_DEADLINE_SECONDS,
      ttlSecondsAfterFinished: RECOVERY_JOB_TTL_SECONDS,
      // A replacement pod only once the previous one is gone: never two writers on the volume.
      podReplacementPolicy: 'Failed',
      template: {
        metadata: {
          labels: commonLabels(node, 'recovery'),
          ...(node.spec.podAnnotations !== undefined ? { annotations: { ...node.spec.podAnnotations } } : {}),
        },
        spec: {
          restartPolicy: 'Never',
          initContainers: api ? [mongoContainer(node), mongoInitContainer(node)] : [],
          containers: [recoveryContainer(node, RECOVERY_JOB_SCRIPT)],
          volumes: recoveryVolumes(node),
          ...commonPodSettings(node),
        },
      },
    },
  };
}
