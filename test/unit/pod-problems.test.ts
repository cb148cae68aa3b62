import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

import { CONDITION_REASON_PATTERN, setCondition } from '../../k8s/conditions.js';
import { CONTAINERS } from '../../k8s/objects/layout.js';
import {
  classifyPod,
  POD_PROBLEM_KINDS,
  problemKey,
  restartCounts,
  SEVERITY_ORDER,
  summarise,
  unsignedExitCode,
  type ClassifyContext,
  type PodProblem,
} from '../../worker/podProblems.js';

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
