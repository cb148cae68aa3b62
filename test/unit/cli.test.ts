import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseCliArgs, runCli, usage, UsageError } from '../../client/cli.js';
import { formatStatus } from '../../client/status.js';
import { repoRoot } from '../support/paths.js';

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('cli arguments', () => {
  it('takes a command and a name; the namespace defaults to default', () => {
    assert.deepEqual(parseCliArgs(['status', 'sai-peer']), {
      command: 'status',
      namespace: 'default',
      name: 'sai-peer',
    });
    assert.deepEqual(parseCliArgs(['resume', 'sai-peer']), {
      command: 'resume',
      namespace: 'default',
      name: 'sai-peer',
    });
  });

  it('takes the namespace from -n, --namespace, or <namespace>/<name>, before or after the name', () => {
    const expected = { command: 'resume', namespace: 'symbol', name: 'sai-peer' };
    assert.deepEqual(parseCliArgs(['resume', 'sai-peer', '-n', 'symbol']), expected);
    assert.deepEqual(parseCliArgs(['resume', '-n', 'symbol', 'sai-peer']), expected);
    assert.deepEqual(parseCliArgs(['resume', 'sai-peer', '--namespace', 'symbol']), expected);
    assert.deepEqual(parseCliArgs(['resume', 'sai-peer', '--namespace=symbol']), expected);
    assert.deepEqual(parseCliArgs(['resume', 'symbol/sai-peer']), expected);
    assert.deepEqual(parseCliArgs(['resume', 'symbol/sai-peer', '-n', 'symbol']), expected);
  });

  it('asks for help with -h, --help or help', () => {
    for (const args of [['-h'], ['--help'], ['help'], ['status', '--help']]) {
      assert.deepEqual(parseCliArgs(args), { command: 'help' }, args.join(' '));
    }
  });

  it('rejects what it cannot run, saying why', () => {
    const cases: [string[], RegExp][] = [
      [[], /missing command/],
      [['frobnicate', 'x'], /unknown command 'frobnicate'/],
      [['toString', 'x'], /unknown command 'toString'/],
      [['status'], /status: missing SymbolNode name/],
      [['resume', ''], /resume: missing SymbolNode name/],
      [['status', 'a', 'b'], /unexpected argument 'b'/],
      [['status', 'a/b/c'], /not <name> or <namespace>\/<name>/],
      [['status', '/b'], /not <name> or <namespace>\/<name>/],
      [['status', 'x/a', '-n', 'y'], /namespace 'x' in the name differs from -n 'y'/],
      [['status', 'a', '-n', ''], /empty namespace/],
      [['status', 'a', '-n'], /argument missing/],
      [['status', 'a', '--all'], /Unknown option '--all'/],
    ];
    for (const [args, message] of cases) {
      assert.throws(
        () => parseCliArgs(args),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
        args.join(' '),
      );
    }
  });
});

describe('cli usage errors', () => {
  it('prints the reason and the usage on stderr, nothing on stdout, and exits 2', async () => {
    for (const args of [[], ['frobnicate', 'x'], ['status'], ['resume'], ['status', 'a', '--all']]) {
      const { code, out, err } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.deepEqual(out, []);
      assert.match(err[0]!, /^error: /);
      assert.equal(err[1], usage);
    }
  });

  it('prints the usage on stdout for --help and exits 0', async () => {
    const { code, out, err } = await run(['--help']);
    assert.equal(code, 0);
    assert.deepEqual(out, [usage]);
    assert.deepEqual(err, []);
    assert.match(usage, /status <name>/);
    assert.match(usage, /resume <name>/);
    assert.match(usage, /-n\|--namespace/);
  });

  it('exits 2 with the usage and no stack trace when run as a program', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'client/cli.ts', 'frobnicate', 'x'],
        { cwd: repoRoot },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `error: unknown command 'frobnicate'\n${usage}\n`);
  });
});

describe('cli status lines', () => {
  const ref = { namespace: 'symbol', name: 'sai-peer', uid: 'u-1' };
  const workflowId = 'symbolnode/symbol/sai-peer/u-1';

  it('shows a node that is provisioned and healthy', () => {
    const lines = formatStatus(ref, workflowId, {
      requestedGeneration: 1,
      handledGeneration: 1,
      deleted: false,
      lastOutcome: { outcome: 'Ready', image: 'symbolplatform/symbol-server:gcc-1.0.3.9' },
      lastReady: { generation: 1, image: 'symbolplatform/symbol-server:gcc-1.0.3.9' },
      podHealth: { pod: 'sai-peer-0', podReady: true },
    });
    assert.deepEqual(lines, [
      'SymbolNode:       symbol/sai-peer (uid u-1)',
      'workflow:         symbolnode/symbol/sai-peer/u-1',
      'generation:       1 handled, 1 requested',
      'last outcome:     Ready (image symbolplatform/symbol-server:gcc-1.0.3.9)',
      'last Ready:       generation 1, image symbolplatform/symbol-server:gcc-1.0.3.9',
      'remediation runs: 0',
      'escalated:        no',
      'pod health:       sai-peer-0 Ready, no problem',
    ]);
  });

  it('shows a fresh node, a pending generation, a failure, an escalation and a pod problem', () => {
    const fresh = formatStatus(ref, workflowId, { requestedGeneration: 0, handledGeneration: 0, deleted: false });
    assert.ok(fresh.includes('last outcome:     none yet'));
    assert.ok(fresh.includes('pod health:       not reported yet'));

    const lines = formatStatus(ref, workflowId, {
      requestedGeneration: 3,
      handledGeneration: 2,
      deleted: false,
      lastOutcome: {
        outcome: 'Failed',
        reason: 'IdentitySecretNotFound',
        message: 'Secret sai-peer-identity not found',
      },
      remediation: {
        runs: 3,
        recentStarts: [],
        escalated: { reason: 'RemediationExhausted', message: '3 remediations within 30 min did not keep the node up' },
      },
      podHealth: {
        pod: 'sai-peer-0',
        podReady: false,
        problem: {
          kind: 'CrashLoop',
          reason: 'CrashLoopBackOff',
          message: 'exit 253',
          uncleanStop: true,
          remediable: true,
        },
      },
    });
    assert.ok(lines.includes('generation:       2 handled, 3 requested (generation 3 pending)'), lines.join('\n'));
    assert.ok(lines.includes('last outcome:     Failed: IdentitySecretNotFound: Secret sai-peer-identity not found'));
    assert.ok(lines.includes('remediation runs: 3'));
    assert.ok(
      lines.includes(
        'escalated:        RemediationExhausted: 3 remediations within 30 min did not keep the node up (after fixing the cause: npm run cli -- resume sai-peer -n symbol)',
      ),
    );
    assert.ok(lines.includes('pod health:       sai-peer-0 not Ready, CrashLoopBackOff: exit 253'));
  });
});
