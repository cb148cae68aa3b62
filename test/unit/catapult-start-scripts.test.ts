/**
 * The start scripts of catapult's containers (k8s/objects/layout.ts), run for real by POSIX shells: dash (Debian's
 * /bin/sh) and busybox sh (the shell of the server image). Only their paths are moved into a temporary directory;
 * catapult.server and catapult.recovery are stand-ins that record their calls and behave like catapult towards the
 * lock file (the server refuses to start while server.lock exists, exit 253; recovery removes it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import {
  apiCatapultStartScript,
  CATAPULT_BIN,
  catapultCommand,
  PEER_SERVER_START_SCRIPT,
  REPAIRS_LOCK_IN_PLACE_MARKER,
} from '../../k8s/objects/layout.js';

const shells = [
  ['dash', ['/bin/sh']],
  ['busybox sh', ['busybox', 'sh']],
].filter(([, command]) => spawnSync(command![0]!, [...command!.slice(1), '-c', 'exit 0']).status === 0) as Array<
  [string, string[]]
>;

const scratch = mkdtempSync(join(tmpdir(), 'sno-start-scripts-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Sandbox {
  dir: string;
  data: string;
  calls: () => string[];
  run: (script: string) => { status: number | null; stdout: string; stderr: string };
}

let sandboxes = 0;
function sandbox(shell: string[], options: { recoveryFails?: boolean } = {}): Sandbox {
  const dir = join(scratch, String(++sandboxes));
  const data = join(dir, 'data');
  const bin = join(dir, 'bin');
  mkdirSync(data, { recursive: true });
  mkdirSync(bin);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub(
    'catapult.server',
    `if [ -e '${data}/server.lock' ]; then echo 'could not acquire instance lock' >&2; exit 253; fi\nexit 0`,
  );
  stub(
    'catapult.recovery',
    options.recoveryFails
      ? `echo 'recovery failed' >&2; exit 7`
      : `[ -e '${data}/recovery.lock' ] && exit 253\nrm -f '${data}/server.lock' '${data}/broker.lock'\nexit 0`,
  );
  return {
    dir,
    data,
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    run: (script: string) => {
      const moved = script.replaceAll('/data/', `${data}/`).replaceAll(CATAPULT_BIN, bin);
      const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', moved], { encoding: 'utf8' });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

void describe('catapult start scripts', () => {
  void it('the peer server runs the peer script, API roles the reporting one', () => {
    assert.deepEqual(catapultCommand('catapult.server', 'peer'), ['/bin/sh', '-c', PEER_SERVER_START_SCRIPT]);
    assert.deepEqual(catapultCommand('catapult.server', 'api'), [
      '/bin/sh',
      '-c',
      apiCatapultStartScript('catapult.server'),
    ]);
    assert.ok(PEER_SERVER_START_SCRIPT.includes(REPAIRS_LOCK_IN_PLACE_MARKER));
    assert.ok(!apiCatapultStartScript('catapult.server').includes(REPAIRS_LOCK_IN_PLACE_MARKER));
    assert.ok(!apiCatapultStartScript('catapult.broker').includes('catapult.recovery /userconfig'));
    // busybox has no bash: nothing beyond POSIX sh and rm
    for (const script of [PEER_SERVER_START_SCRIPT, apiCatapultStartScript('catapult.broker')]) {
      assert.doesNotMatch(script, /\[\[|\bfunction\b|\blocal\b|\bsed\b|\bawk\b|\bbash\b/);
    }
  });

  for (const [name, shell] of shells) {
    void it(`${name}: a peer server without a lock starts catapult.server only`, () => {
      const box = sandbox(shell);
      const result = box.run(PEER_SERVER_START_SCRIPT);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(box.calls(), ['catapult.server /userconfig']);
    });

    void it(`${name}: a peer server with a left server.lock runs catapult.recovery, then the server`, () => {
      const box = sandbox(shell);
      writeFileSync(join(box.data, 'server.lock'), '');
      const result = box.run(PEER_SERVER_START_SCRIPT);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(box.calls(), ['catapult.recovery /userconfig', 'catapult.server /userconfig']);
      assert.match(result.stdout, /did not stop cleanly; running catapult\.recovery first/);
      assert.ok(!existsSync(join(box.data, 'server.lock')));
    });

    void it(`${name}: a recovery.lock of a killed recovery is removed and recovery starts over`, () => {
      const box = sandbox(shell);
      writeFileSync(join(box.data, 'recovery.lock'), '');
      writeFileSync(join(box.data, 'server.lock'), '');
      const result = box.run(PEER_SERVER_START_SCRIPT);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(box.calls(), ['catapult.recovery /userconfig', 'catapult.server /userconfig']);
      assert.ok(!existsSync(join(box.data, 'recovery.lock')));
    });

    void it(`${name}: a failing recovery fails the start; the server does not run on unrepaired data`, () => {
      const box = sandbox(shell, { recoveryFails: true });
      writeFileSync(join(box.data, 'server.lock'), '');
      const result = box.run(PEER_SERVER_START_SCRIPT);
      assert.equal(result.status, 7);
      assert.deepEqual(box.calls(), ['catapult.recovery /userconfig']);
    });

    void it(`${name}: an API server or broker with a left lock exits 253 and says why, without recovery`, () => {
      for (const [binary, lock] of [
        ['catapult.server', 'server.lock'],
        ['catapult.broker', 'broker.lock'],
      ] as const) {
        const box = sandbox(shell);
        writeFileSync(join(box.data, lock), '');
        const result = box.run(apiCatapultStartScript(binary));
        assert.equal(result.status, 253, binary);
        assert.deepEqual(box.calls(), [], `${binary}: neither recovery nor catapult ran`);
        assert.match(result.stderr, new RegExp(`/data/${lock.replace('.', '\\.')} is left from a run`));
        assert.match(result.stderr, /the operator stops the node and runs it as a Job/);
        assert.ok(existsSync(join(box.data, lock)), 'the lock stays for the recovery Job');
      }
    });

    void it(`${name}: an API server without a lock starts catapult.server`, () => {
      const box = sandbox(shell);
      const result = box.run(apiCatapultStartScript('catapult.server'));
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(box.calls(), ['catapult.server /userconfig']);
    });
  }

  void it('runs on at least the shell of the server image (busybox) or Debian sh', () => {
    assert.ok(shells.length > 0);
  });
});
