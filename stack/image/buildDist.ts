/**
 * `npm run build`: the operator as runnable JavaScript in dist/ — tsc output of the product code (no tests, no
 * stack tooling), the files it reads at run time (the CRD YAML beside k8s/install.js) and the workflow bundle
 * (dist/workflow-bundle.js), which worker/main.ts prefers over bundling the workflows at start.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const distDir = join(repoRoot, 'dist');
export const workflowBundleFile = join(distDir, 'workflow-bundle.js');

export async function buildDist(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  await rm(distDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.build.json')]);
  await mkdir(join(distDir, 'k8s', 'manifests'), { recursive: true });
  await cp(join(repoRoot, 'k8s', 'manifests', 'crd'), join(distDir, 'k8s', 'manifests', 'crd'), {
    recursive: true,
    filter: (source) => !source.endsWith('kustomization.yaml'),
  });
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(distDir, 'workflows', 'index.js'),
    // A prebuilt bundle ignores the worker's interceptor options: the metrics interceptor goes in here.
    workflowInterceptorModules: [join(distDir, 'workflows', 'metrics.js')],
    logger: {
      trace() {},
      debug() {},
      info() {},
      warn: (message) => log(`bundler: ${message}`),
      error: console.error,
      log() {},
    },
  });
  await writeFile(workflowBundleFile, bundle.code);
  log(
    `dist/ built in ${((Date.now() - started) / 1000).toFixed(1)}s (workflow bundle ${(bundle.code.length / 1024).toFixed(0)} KiB)`,
  );
}

function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit' });
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${args.join(' ')} exited with ${code ?? 'a signal'}`)),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildDist((line) => console.log(`[build] ${line}`)).catch((error: unknown) => {
    console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
