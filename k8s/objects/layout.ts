/**
 * The pod layout of a SymbolNode: container names, ports, mount points, data-volume sub-paths, scripts and
 * default resources. Exported so that other modules (pod watcher, recovery Job) refer to the same names.
 */
import type { V1ResourceRequirements } from '@kubernetes/client-node';

export const PORTS = {
  /** catapult peer protocol (TLS 1.3); REST's apiNode connects here too. */
  peer: 7900,
  /** catapult.broker ZeroMQ publisher (subscriberPort), read by REST websockets; pod-internal. */
  broker: 7902,
  /** REST gateway HTTP. */
  rest: 3000,
  /** MongoDB, bound to 127.0.0.1 only. */
  mongo: 27017,
} as const;

export const CONTAINERS = {
  seedInit: 'seed-init',
  mongo: 'mongo',
  mongoInit: 'mongo-init',
  recovery: 'recovery',
  server: 'server',
  broker: 'broker',
  rest: 'rest',
} as const;
export type ContainerName = (typeof CONTAINERS)[keyof typeof CONTAINERS];

/**
 * Sub-paths of the one data volume. `data/` is catapult's data directory alone (what shoestring's reset-data
 * wipes); the seed, MongoDB files, voting keys and logs live beside it, not inside it.
 */
export const DATA_SUBPATHS = {
  data: 'data',
  seed: 'seed',
  votingKeys: 'votingkeys',
  mongo: 'dbdata',
  logs: 'logs',
  restCache: 'rest-cache',
} as const;

/** Mount points. The catapult ones are fixed by config-user.properties (/seed, /certificates, /data, /votingkeys). */
export const MOUNTS = {
  userconfig: '/userconfig',
  resources: '/userconfig/resources',
  certificates: '/certificates',
  data: '/data',
  seed: '/seed',
  votingKeys: '/votingkeys',
  logs: '/logs',
  mongoData: '/dbdata',
  mongoScripts: '/mongo',
  restConfig: '/rest-config',
  restWorkdir: '/symbol-workdir',
  /** seed-init sees the whole data volume here. */
  volumeRoot: '/pvc',
  /** seed-init: a network package from a ConfigMap. */
  package: '/package',
  tmp: '/tmp',
} as const;

export const VOLUMES = {
  data: 'data',
  resources: 'resources',
  /** resources + the harvesting Secret: the server's view for harvesters. */
  serverResources: 'server-resources',
  certificates: 'certificates',
  restConfig: 'rest-config',
  mongoScripts: 'mongo-scripts',
  package: 'package',
  tmp: 'tmp',
} as const;

/** shoestring's default userId/groupId; the images run as this user there too. */
export const RUN_AS_USER = 1000;
export const RUN_AS_GROUP = 1000;

export const CATAPULT_BIN = '/usr/catapult/bin';
export const CATAPULT_ENV = [{ name: 'LD_LIBRARY_PATH', value: '/usr/catapult/lib:/usr/catapult/deps' }];

/** The seed-init program in the operator image (worker/seedInit.ts; this module only builds its container). */
export const SEED_INIT_COMMAND = ['node', '/app/dist/worker/seedInit.js'] as const;

/**
 * shoestring runs catapult with `nofile` 65536 (and the broker raises its soft limit to 1048576). Kubernetes
 * cannot set rlimits and containerd 2.x leaves the soft limit at 1024, so the soft limit is raised to the hard
 * limit before exec. Constant text: nothing from the spec is interpolated. After `exec`, catapult is PID 1 and
 * handles SIGTERM itself (clean shutdown, lock file removed).
 */
const RAISE_NOFILE = 'ulimit -S -n "$(ulimit -H -n)" 2>/dev/null || true';

/**
 * Marks a start script that repairs a stale lock itself before the server starts. The pod watcher reads it from
 * the pod's spec (workflows/remediation/containers.ts): such a container's crash heals on its in-place restart and needs the
 * operator's recovery only if that restart fails too. Pods from before the script have no marker.
 */
export const REPAIRS_LOCK_IN_PLACE_MARKER = '# symbol-node-operator: repairs a stale lock in place';

/**
 * catapult.server of a peer node. The kubelet restarts a crashed server container in place (SIGKILL, OOM kill,
 * abort at boot) without running the init containers again, so the recovery init container cannot help; a left
 * `server.lock` would make every restart exit 253 until the pod is recreated. Nothing else in a peer's pod uses
 * /data while this container is down, so the start itself runs catapult.recovery first (0.2 s on a small chain;
 * it replays what the spool needs and removes server.lock), then replaces itself with the server. A
 * `recovery.lock` is left only by a recovery that was killed: removed, and recovery starts over (it is
 * restartable). A failing recovery fails the start (set -e), and the kubelet tries again with back-off.
 * Constant text (POSIX sh and busybox rm only), nothing from the spec.
 */
export const PEER_SERVER_START_SCRIPT = [
  REPAIRS_LOCK_IN_PLACE_MARKER,
  'set -eu',
  RAISE_NOFILE,
  'if [ -e /data/server.lock ] || [ -e /data/recovery.lock ]; then',
  '  echo "server: a lock file in /data shows that catapult did not stop cleanly; running catapult.recovery first"',
  '  rm -f /data/recovery.lock',
  `  ${CATAPULT_BIN}/catapult.recovery /userconfig`,
  '  echo "server: catapult.recovery finished; starting catapult.server"',
  'fi',
  `exec ${CATAPULT_BIN}/catapult.server /userconfig`,
].join('\n');

/**
 * catapult.server or catapult.broker of an API/dual node. Server and broker share /data, and recovery assumes
 * both are stopped (it repairs the broker's queues too), so a container restarted in place beside a running
 * partner must not run it. A left lock instead ends the start at once with exit 253 — catapult's own status for
 * "could not acquire instance lock", which the pod watcher classifies as a stale lock — and a line saying why, so
 * the operator's remediation stops the node, runs catapult.recovery as a Job and starts it again (a recreated pod
 * gets the recovery init container). Constant text.
 */
export function apiCatapultStartScript(binary: 'catapult.server' | 'catapult.broker'): string {
  const lock = binary === 'catapult.server' ? 'server.lock' : 'broker.lock';
  const name = binary.slice('catapult.'.length);
  return [
    'set -eu',
    RAISE_NOFILE,
    `if [ -e /data/${lock} ]; then`,
    `  echo "${name}: /data/${lock} is left from a run that did not stop cleanly; catapult.recovery cannot run` +
      ` while the other catapult process of the pod uses /data: the operator stops the node and runs it as a Job" >&2`,
    '  exit 253',
    'fi',
    `exec ${CATAPULT_BIN}/${binary} /userconfig`,
  ].join('\n');
}

/** The command of a catapult container: the peer server repairs a stale lock in place, API roles do not. */
export function catapultCommand(
  binary: 'catapult.server' | 'catapult.broker',
  role: 'peer' | 'api' = 'peer',
): string[] {
  const script =
    role === 'peer' && binary === 'catapult.server' ? PEER_SERVER_START_SCRIPT : apiCatapultStartScript(binary);
  return ['/bin/sh', '-c', script];
}

/**
 * Runs catapult.recovery only when a stale lock file shows that catapult did not stop cleanly (facts §3): a
 * clean start costs nothing, and a crash is repaired before the server starts instead of failing with "could
 * not acquire instance lock" forever. `recovery.lock` is left only by an interrupted recovery; nothing else runs
 * in the pod while init containers run, so it is removed and recovery starts over (it is restartable: it works
 * from commit_step.dat and deletes server.lock/broker.lock only at its end). Constant text, no interpolation.
 */
export const RECOVERY_SCRIPT = [
  'set -eu',
  RAISE_NOFILE,
  'stale=""',
  'for lock in server.lock broker.lock recovery.lock; do',
  '  if [ -e "/data/$lock" ]; then stale="$stale $lock"; fi',
  'done',
  'if [ -z "$stale" ]; then',
  '  echo "recovery: no stale lock file in /data, nothing to repair"',
  '  exit 0',
  'fi',
  'echo "recovery: stale lock file(s) in /data:$stale; running catapult.recovery"',
  'rm -f /data/recovery.lock',
  `exec ${CATAPULT_BIN}/catapult.recovery /userconfig`,
].join('\n');

/**
 * The operator's recovery Job: it runs only after the operator has seen an unclean stop and stopped the node,
 * so catapult.recovery runs whether or not a lock file is left (an OOM kill or a lost node may have left the
 * spool queues half written without one). A `recovery.lock` can only be left by an earlier recovery attempt
 * that was killed; the operator runs one attempt at a time, so it is stale. Constant text, no interpolation.
 */
export const RECOVERY_JOB_SCRIPT = [
  'set -eu',
  RAISE_NOFILE,
  'rm -f /data/recovery.lock',
  `exec ${CATAPULT_BIN}/catapult.recovery /userconfig`,
].join('\n');

/**
 * Prepares the catapult database the way shoestring's mongors.sh does: waits for mongod, then feeds
 * mongoDbPrepare.js (which loads the per-plugin scripts by relative name, hence `cd`). It creates collections
 * and indexes and runs on every start, like shoestring's `initiate` service. Constant text.
 */
export const MONGO_INIT_SCRIPT = [
  'set -eu',
  'uri="mongodb://127.0.0.1:27017/catapult"',
  'tries=0',
  'until mongosh --quiet --norc "$uri" --eval "db.runCommand({ ping: 1 })" >/dev/null 2>&1; do',
  '  tries=$((tries + 1))',
  '  if [ "$tries" -ge 120 ]; then echo "mongo-init: mongod did not answer" >&2; exit 1; fi',
  '  sleep 1',
  'done',
  `cd ${MOUNTS.mongoScripts}`,
  'mongosh --quiet --norc "$uri" < mongoDbPrepare.js',
  'echo "mongo-init: catapult database prepared"',
].join('\n');

/** shoestring allows the server 300 s and the broker 60 s to stop; MongoDB and REST stop within seconds. */
export const TERMINATION_GRACE_SECONDS = {
  peer: 300,
  /** REST, then broker (60), then server (300), then MongoDB: sidecars stop in reverse order, one budget. */
  api: 420,
} as const;

/** Defaults; `spec.resources` replaces the server's (and recovery's) as a whole. */
export const DEFAULT_RESOURCES: Record<
  'server' | 'broker' | 'mongo' | 'mongoInit' | 'rest' | 'seedInit',
  V1ResourceRequirements
> = {
  server: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '8Gi' } },
  broker: { requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '4Gi' } },
  mongo: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '6Gi' } },
  mongoInit: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  rest: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '2Gi' } },
  seedInit: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
};
