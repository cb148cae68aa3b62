import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

import { CONDITION_REASON_PATTERN, setCondition } from '../../k8s/conditions.js';
import { catapultCommand, CONTAINERS } from '../../k8s/objects/layout.js';
import {
  classifyPod,
  POD_PROBLEM_KINDS,
  problemKey,
  repairsLockInPlace,
  restartCounts,
  SEVERITY_ORDER,
  summarise,
  unsignedExitCode,
  type ClassifyContext,
  type PodProblem,
} from '../../workflows/remediation/index.js';
import { MAX_LOG_DETAIL, summariseTerminationMessage } from '../../workflows/remediation/index.js';

const now = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number): Date => new Date(now.getTime() - seconds * 1000);
const started = ago(3600);

const IMAGES: Record<string, string> = {
  [CONTAINERS.seedInit]: 'registry.example.org/symbol-node-operator:0.1.0',
  [CONTAINERS.mongo]: 'mongo:7.0.16',
  [CONTAINERS.mongoInit]: 'mongo:7.0.16',
  [CONTAINERS.recovery]: 'symbolplatform/symbol-server:gcc-1.0.3.9',
  [CONTAINERS.server]: 'symbolplatform/symbol-server:gcc-1.0.3.9',
  [CONTAINERS.broker]: 'symbolplatform/symbol-server:gcc-1.0.3.9',
  [CONTAINERS.rest]: 'symbolplatform/symbol-rest:2.5.1',
};

type StatusPatch = Partial<V1ContainerStatus>;

function completed(name: string): V1ContainerStatus {
  return {
    name,
    image: IMAGES[name] ?? 'x',
    imageID: '',
    ready: true,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started } },
  };
}

function running(name: string, patch: StatusPatch = {}): V1ContainerStatus {
  return {
    name,
    image: IMAGES[name] ?? 'x',
    imageID: '',
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: started } },
    ...patch,
  };
}

function crashLooping(name: string, exitCode: number, reason: string, message?: string): StatusPatch {
  return {
    ready: false,
    started: false,
    restartCount: 7,
    state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=${name}` } },
    lastState: {
      terminated: { exitCode, reason, ...(message ? { message } : {}), startedAt: ago(40), finishedAt: ago(30) },
    },
  };
}

/** The pod of a dual/api node: mongo, server and broker are native sidecars (init containers), REST is regular. */
function dualPod(patches: Record<string, StatusPatch> = {}, extra: Partial<V1Pod> = {}): V1Pod {
  const sidecar = (name: string) => running(name, patches[name]);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'node-a-0', namespace: 'symbol', uid: 'pod-uid-1', ...extra.metadata },
    spec: { nodeName: 'worker-1', containers: [{ name: CONTAINERS.rest, image: IMAGES[CONTAINERS.rest] }] },
    status: {
      phase: 'Running',
      startTime: started,
      initContainerStatuses: [
        completed(CONTAINERS.seedInit),
        sidecar(CONTAINERS.mongo),
        completed(CONTAINERS.mongoInit),
        completed(CONTAINERS.recovery),
        sidecar(CONTAINERS.server),
        sidecar(CONTAINERS.broker),
      ],
      containerStatuses: [running(CONTAINERS.rest, patches[CONTAINERS.rest])],
      ...extra.status,
    },
  };
}

/** The pod of a peer node: the server is the regular container. */
function peerPod(patch: StatusPatch = {}, extra: Partial<V1Pod> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'peer-b-0', namespace: 'symbol', uid: 'pod-uid-2', ...extra.metadata },
    spec: { nodeName: 'worker-2', containers: [{ name: CONTAINERS.server, image: IMAGES[CONTAINERS.server] }] },
    status: {
      phase: 'Running',
      startTime: started,
      initContainerStatuses: [completed(CONTAINERS.seedInit), completed(CONTAINERS.recovery)],
      containerStatuses: [running(CONTAINERS.server, patch)],
      ...extra.status,
    },
  };
}

/** classifyPod plus invariants every problem must satisfy. */
function classify(pod: V1Pod, context: Partial<ClassifyContext> = {}): PodProblem[] {
  const problems = classifyPod(pod, { now, ...context });
  const reasonRe = new RegExp(CONDITION_REASON_PATTERN);
  for (const p of problems) {
    assert.match(p.reason, reasonRe, `reason ${p.reason} is a valid condition reason`);
    assert.doesNotMatch(p.message, /[\r\n]/, 'message is one line');
    assert.ok(p.message.length > 0);
    if (p.container) assert.match(p.message, new RegExp(`\\b${p.container}\\b`), 'message names the container');
  }
  const summary = summarise(problems);
  if (summary) setCondition(undefined, summary.condition, 1, now); // throws on a malformed condition
  return problems;
}

function only(problems: PodProblem[]): PodProblem {
  assert.equal(problems.length, 1, `exactly one problem: ${JSON.stringify(problems)}`);
  return problems[0] as PodProblem;
}

const LOCK_MESSAGE =
  '2025-06-01 11:59:29.872 <fatal> (process::ProcessMain.cpp@87) could not acquire instance lock "/data/server.lock"\n';

void describe('classifyPod', () => {
  void it('reports nothing for a healthy dual pod (sidecars Ready, init containers Completed) or peer pod', () => {
    assert.deepEqual(classify(dualPod(), { nodeReady: () => true, previousRestarts: restartCounts(dualPod()) }), []);
    assert.deepEqual(classify(peerPod(), { nodeReady: () => true }), []);
  });

  void it('crash loop with exit 253 and the instance lock message: CrashLoop, unclean, names the lock', () => {
    const pod = dualPod({ [CONTAINERS.server]: crashLooping(CONTAINERS.server, 253, 'Error', LOCK_MESSAGE) });
    const p = only(classify(pod));
    assert.equal(p.kind, 'CrashLoop');
    assert.equal(p.container, 'server');
    assert.equal(p.reason, 'CrashLoopBackOff');
    assert.equal(p.exitCode, 253);
    assert.equal(p.restartCount, 7);
    assert.equal(p.uncleanStop, true);
    assert.equal(p.remediable, true);
    assert.match(p.message, /CrashLoopBackOff/);
    assert.match(p.message, /code 253/);
    assert.match(p.message, /instance lock \(stale server\.lock\)/);
    assert.match(p.message, /catapult\.recovery/);
    // catapult's own words too: a lock it cannot take may also be a data directory it cannot reach.
    assert.match(p.message, /could not acquire instance lock "\/data\/server\.lock"/);
  });

  void it('reads the regular containers too: a crash-looping peer server, exit −3 reported signed', () => {
    const p = only(classify(peerPod(crashLooping(CONTAINERS.server, -3, 'Error'))));
    assert.equal(p.kind, 'CrashLoop');
    assert.equal(p.exitCode, 253);
    assert.match(p.message, /stale server\.lock/);
    assert.equal(unsignedExitCode(-3), 253);
  });

  void it('a container that exited 253 and is not yet restarted: UncleanExit StaleInstanceLock', () => {
    const pod = peerPod({
      ready: false,
      started: false,
      state: { terminated: { exitCode: 253, reason: 'Error', startedAt: ago(5), finishedAt: ago(1) } },
    });
    const p = only(classify(pod));
    assert.deepEqual([p.kind, p.reason, p.uncleanStop, p.exitCode], ['UncleanExit', 'StaleInstanceLock', true, 253]);
  });

  void it('OOMKilled: a restarted server whose last termination was the OOM killer', () => {
    const oom: StatusPatch = {
      restartCount: 1,
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: started, finishedAt: ago(30) } },
    };
    const p = only(classify(dualPod({ [CONTAINERS.server]: oom })));
    assert.deepEqual([p.kind, p.container, p.reason, p.exitCode], ['OOMKilled', 'server', 'OOMKilled', 137]);
    assert.equal(p.uncleanStop, true);
    assert.equal(p.remediable, true);
    assert.match(p.message, /code 137 \(OOMKilled\)/);
  });

  void it('OOMKilled while in CrashLoopBackOff: one problem for the container, the cause wins', () => {
    const pod = dualPod({ [CONTAINERS.server]: crashLooping(CONTAINERS.server, 137, 'OOMKilled') });
    const p = only(classify(pod, { previousRestarts: { server: 5 } }));
    assert.equal(p.kind, 'OOMKilled');
    assert.match(p.message, /CrashLoopBackOff/);
    assert.match(p.message, /restart count 5 → 7/);
  });

  void it('a long-past lastState of a running container is history, unless the restart count rose', () => {
    const old: StatusPatch = {
      restartCount: 1,
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: ago(7300), finishedAt: ago(7200) } },
    };
    const pod = dualPod({ [CONTAINERS.server]: old });
    assert.deepEqual(classify(pod), []);
    assert.deepEqual(classify(pod, { previousRestarts: { server: 1 } }), []);
    assert.equal(only(classify(pod, { previousRestarts: { server: 0 } })).kind, 'OOMKilled');
    assert.equal(only(classify(pod, { recentTerminationMs: 3 * 3600_000 })).kind, 'OOMKilled');
  });

  void it('OOMKilled REST is not an unclean stop of catapult', () => {
    const p = only(classify(dualPod({ [CONTAINERS.rest]: crashLooping(CONTAINERS.rest, 137, 'OOMKilled') })));
    assert.deepEqual([p.kind, p.container, p.uncleanStop], ['OOMKilled', 'rest', false]);
  });

  void it('SIGKILL 137 without OOM: UncleanExit SigKilled', () => {
    const killed: StatusPatch = {
      restartCount: 2,
      lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: started, finishedAt: ago(20) } },
    };
    const p = only(classify(dualPod({ [CONTAINERS.broker]: killed })));
    assert.deepEqual(
      [p.kind, p.container, p.reason, p.exitCode, p.uncleanStop],
      ['UncleanExit', 'broker', 'SigKilled', 137, true],
    );
    assert.match(p.message, /broker last exited with code 137/);
    assert.match(p.message, /SIGKILL/);
  });

  void it('clean SIGTERM 143 and exit 0 are no problem', () => {
    for (const exitCode of [143, 0]) {
      const stopped: StatusPatch = {
        restartCount: 1,
        lastState: { terminated: { exitCode, reason: 'Error', startedAt: started, finishedAt: ago(20) } },
      };
      assert.deepEqual(classify(dualPod({ [CONTAINERS.server]: stopped })), [], `exit ${exitCode}`);
    }
  });

  void it('ImagePullBackOff: report only, not remediable, not unclean; ErrImagePull has the same key', () => {
    const pulling = (reason: string): V1Pod =>
      dualPod(
        {
          [CONTAINERS.rest]: {
            image: 'registry.invalid/symbol-rest:2.5.1',
            ready: false,
            started: false,
            state: { waiting: { reason, message: 'Back-off pulling image "registry.invalid/symbol-rest:2.5.1"' } },
          },
        },
        { status: { phase: 'Pending' } },
      );
    const p = only(classify(pulling('ImagePullBackOff')));
    assert.deepEqual([p.kind, p.container, p.remediable, p.uncleanStop], ['ImagePull', 'rest', false, false]);
    assert.match(p.message, /registry\.invalid\/symbol-rest:2\.5\.1/);
    assert.equal(problemKey(only(classify(pulling('ErrImagePull')))), problemKey(p));
  });

  void it('CreateContainerConfigError: ConfigError, not remediable, with kubelet message', () => {
    const pod = dualPod({
      [CONTAINERS.server]: {
        ready: false,
        started: false,
        state: {
          waiting: { reason: 'CreateContainerConfigError', message: 'secret "node-a-harvesting" not found' },
        },
      },
    });
    const p = only(classify(pod));
    assert.deepEqual(
      [p.kind, p.reason, p.remediable, p.uncleanStop],
      ['ConfigError', 'CreateContainerConfigError', false, false],
    );
    assert.match(p.message, /node-a-harvesting/);
  });

  void it('container runtime errors: ContainerError, remediable', () => {
    const pod = peerPod({
      ready: false,
      started: false,
      state: { waiting: { reason: 'RunContainerError', message: 'failed to create shim task' } },
    });
    const p = only(classify(pod));
    assert.deepEqual([p.kind, p.reason, p.remediable], ['ContainerError', 'RunContainerError', true]);
  });

  void it('pod Failed (as the stack fault stage makes it): PodFailed plus the container cause, PodFailed first', () => {
    const pod = peerPod(
      {
        ready: false,
        started: false,
        state: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: started, finishedAt: ago(10) } },
      },
      { status: { phase: 'Failed' } },
    );
    const problems = classify(pod);
    assert.deepEqual(
      problems.map((p) => p.kind),
      ['PodFailed', 'OOMKilled'],
    );
    const [failed] = problems as [PodProblem];
    assert.equal(failed.uncleanStop, true);
    assert.equal(failed.container, undefined);
    assert.match(failed.message, /pod peer-b-0 failed/);
    assert.match(failed.message, /server exited with code 137/);
    assert.equal(summarise(problems)?.condition.reason, 'PodFailed');
  });

  void it('an evicted pod whose containers stopped cleanly: PodFailed, not unclean', () => {
    const pod = peerPod(
      {
        ready: false,
        started: false,
        state: { terminated: { exitCode: 143, reason: 'Error', startedAt: started, finishedAt: ago(10) } },
      },
      { status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: ephemeral-storage.' } },
    );
    const p = only(classify(pod));
    assert.deepEqual([p.kind, p.uncleanStop], ['PodFailed', false]);
    assert.match(p.message, /Evicted/);
  });

  void it('rising restart count with clean exits: RestartsRising; not without a previous count', () => {
    const restarted: StatusPatch = {
      restartCount: 5,
      lastState: { terminated: { exitCode: 143, reason: 'Error', startedAt: started, finishedAt: ago(60) } },
    };
    const pod = dualPod({ [CONTAINERS.server]: restarted });
    const p = only(classify(pod, { previousRestarts: { server: 3 } }));
    assert.deepEqual([p.kind, p.container, p.uncleanStop, p.restartCount], ['RestartsRising', 'server', false, 5]);
    assert.match(p.message, /restarted 2 times.*3 → 5/);
    assert.deepEqual(classify(pod), []);
    assert.deepEqual(classify(pod, { previousRestarts: restartCounts(pod) }), []);
    assert.equal(restartCounts(pod).server, 5);
  });

  void it('Terminating on a NotReady node past its grace period: StuckOnLostNode', () => {
    const pod = dualPod(
      {},
      { metadata: { name: 'node-a-0', deletionTimestamp: ago(300), deletionGracePeriodSeconds: 420 } },
    );
    const p = only(classify(pod, { nodeReady: (n) => (n === 'worker-1' ? false : true) }));
    assert.deepEqual([p.kind, p.reason, p.uncleanStop, p.remediable], ['StuckOnLostNode', 'NodeLost', true, true]);
    assert.equal(p.container, undefined);
    assert.match(p.message, /worker-1.*NotReady.*force-deleted/);
    // Ready unknown (Unknown status or node gone) counts as lost too.
    assert.equal(only(classify(pod, { nodeReady: () => undefined })).kind, 'StuckOnLostNode');
  });

  void it('not stuck: on a Ready node, within the grace period, unscheduled, or without node information', () => {
    const terminating = dualPod({}, { metadata: { name: 'node-a-0', deletionTimestamp: ago(300) } });
    assert.deepEqual(classify(terminating, { nodeReady: () => true }), []);
    assert.deepEqual(classify(terminating), []);
    const inGrace = dualPod(
      {},
      { metadata: { name: 'node-a-0', deletionTimestamp: new Date(now.getTime() + 60_000) } },
    );
    assert.deepEqual(classify(inGrace, { nodeReady: () => false }), []);
    const unscheduled = dualPod({}, { metadata: { name: 'node-a-0', deletionTimestamp: ago(300) } });
    delete unscheduled.spec?.nodeName;
    assert.deepEqual(classify(unscheduled, { nodeReady: () => false }), []);
  });

  void it('phase Unknown on a NotReady node: StuckOnLostNode', () => {
    const pod = peerPod({}, { status: { phase: 'Unknown' } });
    assert.equal(only(classify(pod, { nodeReady: () => false })).kind, 'StuckOnLostNode');
    assert.deepEqual(classify(pod, { nodeReady: () => true }), []);
  });

  void it('a normal shutdown stops the broker before the server: no BrokerDown while being deleted', () => {
    const pod = dualPod(
      {
        [CONTAINERS.rest]: {
          ready: false,
          state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: ago(2) } },
        },
        [CONTAINERS.broker]: {
          ready: false,
          state: { terminated: { exitCode: 143, reason: 'Error', startedAt: started, finishedAt: ago(1) } },
        },
      },
      { metadata: { name: 'node-a-0', deletionTimestamp: new Date(now.getTime() + 400_000) } },
    );
    assert.deepEqual(classify(pod, { nodeReady: () => true }), []);
  });

  void it('while being deleted only the shutdown counts: SIGKILL past the grace period, not an old crash', () => {
    const deleting = { metadata: { name: 'node-a-0', deletionTimestamp: ago(1) } };
    const killedAtShutdown = dualPod(
      {
        [CONTAINERS.server]: {
          ready: false,
          state: { terminated: { exitCode: 137, reason: 'Error', startedAt: started, finishedAt: ago(1) } },
        },
      },
      deleting,
    );
    const p = only(classify(killedAtShutdown, { nodeReady: () => true }));
    assert.deepEqual([p.kind, p.reason, p.uncleanStop], ['UncleanExit', 'SigKilled', true]);
    const oldCrash = dualPod({ [CONTAINERS.server]: crashLooping(CONTAINERS.server, 253, 'Error') }, deleting);
    assert.deepEqual(classify(oldCrash, { nodeReady: () => true, previousRestarts: { server: 0 } }), []);
  });

  void it('MongoDB down on a dual node while the server runs: MongoDown', () => {
    const pod = dualPod({ [CONTAINERS.mongo]: { ready: false, started: false } });
    const p = only(classify(pod));
    assert.deepEqual([p.kind, p.container, p.reason, p.remediable], ['MongoDown', 'mongo', 'MongoDown', true]);
    assert.match(p.message, /container mongo is down \(not ready\) while the server runs: MongoDB is unavailable/);
  });

  void it('MongoDB crash-looping: the container problem wins and mentions that MongoDB is down', () => {
    const pod = dualPod({ [CONTAINERS.mongo]: crashLooping(CONTAINERS.mongo, 14, 'Error') });
    const p = only(classify(pod));
    assert.deepEqual([p.kind, p.container, p.exitCode], ['CrashLoop', 'mongo', 14]);
    assert.match(p.message, /is down \(waiting: CrashLoopBackOff\) while the server runs: MongoDB is unavailable/);
  });

  void it('broker down while the server runs: BrokerDown; not when the server is down too', () => {
    const brokerDown = { ready: false, started: false };
    const p = only(classify(dualPod({ [CONTAINERS.broker]: brokerDown })));
    assert.deepEqual([p.kind, p.container, p.reason], ['BrokerDown', 'broker', 'BrokerDown']);
    const serverDown: StatusPatch = {
      ready: false,
      started: false,
      state: { waiting: { reason: 'PodInitializing' } },
    };
    assert.deepEqual(classify(dualPod({ [CONTAINERS.broker]: brokerDown, [CONTAINERS.server]: serverDown })), []);
  });
});

void describe('problemKey and summarise', () => {
  const base: PodProblem = {
    kind: 'CrashLoop',
    container: 'server',
    reason: 'CrashLoopBackOff',
    message: 'container server is in CrashLoopBackOff after 3 restarts',
    uncleanStop: true,
    remediable: true,
    restartCount: 3,
  };

  void it('keys on kind, container and reason only', () => {
    const later = { ...base, message: 'container server is in CrashLoopBackOff after 9 restarts', restartCount: 9 };
    assert.equal(problemKey(later), problemKey(base));
    assert.notEqual(problemKey({ ...base, container: 'broker' }), problemKey(base));
    assert.notEqual(problemKey({ ...base, kind: 'UncleanExit' }), problemKey(base));
    assert.notEqual(problemKey({ ...base, reason: 'Other' }), problemKey(base));
    const podLevel: PodProblem = { ...base, kind: 'PodFailed', reason: 'PodFailed' };
    delete podLevel.container;
    assert.equal(problemKey(podLevel), 'PodFailed/-/PodFailed');
  });

  void it('the severity order lists every kind once', () => {
    assert.deepEqual([...SEVERITY_ORDER].sort(), [...POD_PROBLEM_KINDS].sort());
  });

  void it('summarise picks the most severe problem and lists the others', () => {
    const pod = dualPod({
      [CONTAINERS.server]: crashLooping(CONTAINERS.server, 253, 'Error'),
      [CONTAINERS.rest]: {
        image: 'registry.invalid/rest:1',
        ready: false,
        started: false,
        state: { waiting: { reason: 'ImagePullBackOff' } },
      },
    });
    const problems = classify(pod, { nodeReady: () => true });
    const summary = summarise(problems);
    assert.ok(summary);
    assert.equal(summary.problem.kind, 'ImagePull', 'needs a person: ranks above a crash loop');
    assert.deepEqual(
      summary.others.map((p) => p.kind),
      ['CrashLoop'],
    );
    assert.deepEqual(
      [summary.condition.type, summary.condition.status, summary.condition.reason],
      ['Degraded', 'True', 'ImagePullBackOff'],
    );
    assert.match(summary.condition.message, /also CrashLoopBackOff \(server\)$/);
    assert.equal(summarise([]), undefined);
  });

  void it('ties go to the more important container', () => {
    const rest = { ...base, container: 'rest', message: 'container rest is in CrashLoopBackOff' };
    assert.equal(summarise([rest, base])?.problem.container, 'server');
  });
});

/**
 * The termination message of a catapult container with `terminationMessagePolicy: FallbackToLogsOnError`: the tail
 * of its log, in catapult's console format (utils/Logging.cpp: time, thread, `<level>`, source, message) with the
 * ANSI colours the sai package turns on (`colorMode = Ansi`). Shaped after the failed quick restart seen on this
 * project's first real run (shared/catapult/README.md: `bind: Address already in use`, then the abort).
 */
const ESC = '\u001b';
const logLine = (level: string, source: string, message: string) =>
  `${ESC}[32m2026-12-02 10:00:01.123456 0x00007f3c2a1fe640: <${level}> (${source}) ${message} ${ESC}[0m`;
const BIND_FAILURE_LOG = [
  logLine('info', 'extensions::ProcessBootstrapper.cpp@105', 'registering system plugin: coresystem'),
  logLine('warning', 'process::ProcessMain.cpp@97', "Current user umask settings are too wide '22'"),
  logLine('info', 'local::LocalNode.cpp@155', 'loaded blockchain (height = 1, score = 1)'),
  logLine('error', 'net::AsyncTcpServer.cpp@77', 'throwing exception: bind: Address already in use'),
  logLine('fatal', 'process::ProcessMain.cpp@160', 'unhandled exception while running local node!'),
  logLine('info', 'thread::IoThreadPoolContainer.cpp@60', 'waiting for thread pool to shut down'),
  '',
].join('\n');

/** A peer pod as the StatefulSet builder makes it: the server's start repairs a left lock itself. */
function selfRepairingPeerPod(patch: StatusPatch): V1Pod {
  const pod = peerPod(patch);
  pod.spec!.containers = [
    { name: CONTAINERS.server, image: IMAGES[CONTAINERS.server], command: catapultCommand('catapult.server', 'peer') },
  ];
  return pod;
}

void describe('what catapult printed reaches the problem', () => {
  void it('summarises a FallbackToLogsOnError log tail: colours, times and sources dropped, errors kept, one line', () => {
    const summary = summariseTerminationMessage(BIND_FAILURE_LOG);
    assert.equal(
      summary,
      '<error> throwing exception: bind: Address already in use | <fatal> unhandled exception while running local node!',
    );
    assert.equal(
      summariseTerminationMessage('seed-init: ChecksumMismatch: sha256 of x is a, expected b\n'),
      'seed-init: ChecksumMismatch: sha256 of x is a, expected b',
    );
    assert.equal(summariseTerminationMessage(undefined), '');
    assert.equal(summariseTerminationMessage(' \n\t\n'), '');
    // no error lines: the last three lines
    assert.equal(summariseTerminationMessage('a\nb\nc\nd\n'), 'b | c | d');
  });

  void it('bounds the summary and keeps its end, where the cause is', () => {
    const long = logLine('fatal', 'x.cpp@1', `${'x'.repeat(2000)} the cause`);
    const summary = summariseTerminationMessage(long);
    assert.equal(summary.length, MAX_LOG_DETAIL);
    assert.match(summary, /^….*the cause$/);
  });

  void it('a failed start of an API server: the log tail is in the condition message, trimmed to one line', () => {
    const failed: StatusPatch = {
      ready: false,
      started: false,
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=server' } },
      lastState: {
        terminated: {
          exitCode: 134,
          reason: 'Error',
          message: BIND_FAILURE_LOG,
          startedAt: ago(40),
          finishedAt: ago(30),
        },
      },
    };
    const p = only(classify(dualPod({ [CONTAINERS.server]: failed })));
    assert.equal(p.kind, 'CrashLoop');
    assert.equal(p.uncleanStop, true);
    assert.match(
      p.message,
      /last exited with code 134 \(Error\): <error> throwing exception: bind: Address already in use \| <fatal> unhandled exception while running local node!/,
    );
    assert.doesNotMatch(p.message, /2026-12-02|0x00007f|AsyncTcpServer/);
    assert.ok(!p.message.includes(ESC), 'no colour codes');
    const summary = summarise([p]);
    assert.match(summary?.condition.message ?? '', /bind: Address already in use/, 'reaches the Degraded condition');
  });

  void it("the API server's own start message for a left lock: StaleInstanceLock, the operator's recovery, says why", () => {
    const message =
      'server: /data/server.lock is left from a run that did not stop cleanly; catapult.recovery cannot run while ' +
      'the other catapult process of the pod uses /data: the operator stops the node and runs it as a Job\n';
    const pod = dualPod({
      [CONTAINERS.server]: {
        ready: false,
        started: false,
        state: { terminated: { exitCode: 253, reason: 'Error', message, startedAt: ago(2), finishedAt: ago(1) } },
      },
    });
    assert.equal(repairsLockInPlace(pod, CONTAINERS.server), false);
    const p = only(classify(pod));
    assert.deepEqual([p.kind, p.reason, p.uncleanStop, p.remediable], ['UncleanExit', 'StaleInstanceLock', true, true]);
    assert.match(p.message, /stale server\.lock\), catapult\.recovery must run: server: \/data\/server\.lock is left/);
  });
});

void describe('a peer server that repairs a left lock in place', () => {
  const sigkill = { exitCode: 137, reason: 'Error', startedAt: started, finishedAt: ago(1) };

  void it('is recognised by its start script', () => {
    assert.equal(repairsLockInPlace(selfRepairingPeerPod({}), CONTAINERS.server), true);
    assert.equal(repairsLockInPlace(peerPod(), CONTAINERS.server), false, 'pods from before the script');
    assert.equal(repairsLockInPlace(selfRepairingPeerPod({}), CONTAINERS.recovery), false);
  });

  void it('just killed: reported, but no operator recovery — its in-place restart runs catapult.recovery', () => {
    const pod = selfRepairingPeerPod({ ready: false, started: false, state: { terminated: sigkill } });
    const p = only(classify(pod, { previousRestarts: { server: 0 } }));
    assert.deepEqual([p.kind, p.reason, p.uncleanStop, p.remediable], ['UncleanExit', 'SigKilled', false, true]);
    assert.match(p.message, /restart in place runs catapult\.recovery first/);
  });

  void it('running again after the restart: reported once, then cleared', () => {
    const pod = selfRepairingPeerPod({ restartCount: 1, lastState: { terminated: sigkill } });
    const p = only(classify(pod, { previousRestarts: { server: 0 } }));
    assert.deepEqual([p.kind, p.uncleanStop], ['UncleanExit', false]);
    assert.match(p.message, /restarted in place/);
    assert.deepEqual(classify(pod, { previousRestarts: { server: 1 } }), [], 'the next look: healed, no problem');
    // the same status on a pod without the self-repairing start stays news for a while and needs recovery
    const old = peerPod({ restartCount: 1, lastState: { terminated: sigkill } });
    assert.equal(only(classify(old, { previousRestarts: { server: 1 } })).uncleanStop, true);
  });

  void it('OOM-killed and the restart fails too (CrashLoopBackOff): now the operator recovers it', () => {
    const oom = { exitCode: 137, reason: 'OOMKilled', startedAt: started, finishedAt: ago(1) };
    const justKilled = only(classify(selfRepairingPeerPod({ ready: false, state: { terminated: oom } })));
    assert.deepEqual([justKilled.kind, justKilled.uncleanStop], ['OOMKilled', false]);
    const looping = only(
      classify(
        selfRepairingPeerPod({
          ready: false,
          restartCount: 1,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: oom },
        }),
        { previousRestarts: { server: 0 } },
      ),
    );
    assert.deepEqual([looping.kind, looping.uncleanStop], ['OOMKilled', true]);
    assert.equal(problemKey(looping), problemKey(justKilled), 'same key: the pod watcher also keys on uncleanStop');
  });

  void it('while the pod is deleted, a SIGKILL past the grace period is an unclean stop as before', () => {
    const pod = selfRepairingPeerPod({ ready: false, state: { terminated: sigkill } });
    pod.metadata!.deletionTimestamp = ago(0);
    assert.equal(only(classify(pod)).uncleanStop, true);
  });
});
