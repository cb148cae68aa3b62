/**
 * The one test command: `npm test` runs the tests in phases, starting the local stack (building its
 * binaries on a fresh machine) if some selected file needs it, and stopping it again if this run
 * started it. `npm test -- --unit` runs only the unit tests, which need no stack.
 *
 * Phases, in order (each runs even if an earlier one failed, so one run reports everything; the exit
 * code is non-zero if any phase failed):
 * 1. test/unit and test/integration, two files at a time on the shared stack;
 * 2. test/disruptive, one file at a time: they stop kube-apiserver, kill Temporal or operators, which
 *    would break any test running beside them;
 * 3. test/final, one file at a time: checks over what the whole run left behind (the secret scan).
 * Files named on the command line run in the same phases (a disruptive one still alone).
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { stackDown, stackUp } from '../stack/stack.js';
import { clearRunRecords } from './support/secretLedger.js';
import { repoRoot } from './support/paths.js';

interface Phase {
  name: string;
  dirs: string[];
  concurrency: number;
  /** Per file (node:test applies --test-timeout to each file as a whole). */
  timeoutMs: number;
}

const phases: Phase[] = [
  { name: 'unit and integration', dirs: ['test/unit', 'test/integration'], concurrency: 2, timeoutMs: 240_000 },
  // An outage test waits out minutes of outage on purpose.
  { name: 'disruptive', dirs: ['test/disruptive'], concurrency: 1, timeoutMs: 900_000 },
  { name: 'final', dirs: ['test/final'], concurrency: 1, timeoutMs: 600_000 },
];

const stacklessDirs = ['test/unit'];

const within = (file: string, dir: string): boolean => file.startsWith(`${dir}/`);

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(repoRoot, dir), { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(repoRoot, join(e.parentPath, e.name)))
    .sort();
}

async function runNodeTests(files: string[], phase: Phase): Promise<number> {
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${phase.concurrency}`,
    `--test-timeout=${phase.timeoutMs}`,
    '--test-reporter=spec',
    ...files,
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

/** The files of each phase: the ones given (in the phase of their directory, else the first), or all. */
async function planPhases(selected: string[], unitOnly: boolean): Promise<{ phase: Phase; files: string[] }[]> {
  if (selected.length > 0) {
    const files = selected.map((f) => relative(repoRoot, resolve(f)));
    const phaseOf = (file: string): Phase => phases.find((p) => p.dirs.some((d) => within(file, d))) ?? phases[0]!;
    return phases.map((phase) => ({ phase, files: files.filter((f) => phaseOf(f) === phase) }));
  }
  return Promise.all(
    phases.map(async (phase) => {
      const dirs = unitOnly ? phase.dirs.filter((d) => stacklessDirs.includes(d)) : phase.dirs;
      return { phase, files: (await Promise.all(dirs.map(testFiles))).flat() };
    }),
  );
}

async function main(): Promise<number> {
  const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
  const selected = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const plan = (await planPhases(selected, flags.has('--unit'))).filter(({ files }) => files.length > 0);
  const needsStack = plan.some(({ files }) => files.some((f) => !stacklessDirs.some((d) => within(f, d))));
  // The final secret scan checks this run's keys and logs: a full run starts from empty records.
  if (selected.length === 0 && needsStack) await clearRunRecords();
  let startedHere = false;
  if (needsStack) {
    const started = Date.now();
    const info = await stackUp((line) => console.log(`[stack] ${line}`));
    startedHere = info.started && !flags.has('--keep-stack');
    console.log(`[stack] ready in ${((Date.now() - started) / 1000).toFixed(1)}s (Temporal UI ${info.temporalUi})`);
  }
  const stopStack = async (): Promise<void> => {
    if (startedHere) {
      startedHere = false;
      console.log('[stack] stopping the stack this run started');
      await stackDown();
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stopStack().finally(() => process.exit(130)));
  }
  try {
    const results: string[] = [];
    let failed = false;
    for (const { phase, files } of plan) {
      const started = Date.now();
      console.log(`[test] phase ${phase.name}: ${files.length} file(s), ${phase.concurrency} at a time`);
      const code = await runNodeTests(files, phase);
      failed ||= code !== 0;
      results.push(
        `${phase.name} ${code === 0 ? 'passed' : `FAILED (${code})`} in ${((Date.now() - started) / 1000).toFixed(0)}s`,
      );
    }
    console.log(`[test] ${results.join('; ')}`);
    return failed ? 1 : 0;
  } finally {
    await stopStack();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
