/**
 * The one test command: `npm test` runs unit and integration tests, starting the local stack
 * (building its binaries on a fresh machine) if it is not running, and stopping it again if this
 * run started it. `npm test -- --unit` runs only the unit tests, which need no stack.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { stackDown, stackUp } from '../stack/stack.js';
import { repoRoot } from './support/paths.js';

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(repoRoot, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(repoRoot, join(e.parentPath, e.name)))
    .sort();
}

async function runNodeTests(files: string[], concurrency: number): Promise<number> {
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=240000',
    '--test-reporter=spec',
    ...files,
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

async function main(): Promise<number> {
  const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
  const selected = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const unitOnly = flags.has('--unit');
  const files =
    selected.length > 0
      ? selected
      : [...(await testFiles('test/unit')), ...(unitOnly ? [] : await testFiles('test/integration'))];
  const needsStack = files.some((f) => f.includes('integration'));
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
    return await runNodeTests(files, 2);
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
