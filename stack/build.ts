import { execFile, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withLock } from './processes.js';
import { binaries, paths, stackSourceDir, versions, type Component } from './versions.js';

const run = promisify(execFile);

export class StackBuildError extends Error {
  override name = 'StackBuildError';
}

interface BuildRecipe {
  /** Binaries that must exist in the component's cache directory for it to count as built. */
  outputs: string[];
  /** go arguments; `outDir` is a fresh directory that becomes the cache entry on success. */
  goArgs: (outDir: string) => { args: string[]; cwd?: string; env?: Record<string, string> };
  /** Links C code (everything else is built with CGO_ENABLED=0). */
  cgo?: boolean;
  /** Checks (or installs) what the build needs besides Go. */
  prepare?: (log: (line: string) => void) => Promise<void>;
  expectedMinutes: string;
}

const k8sVersion = versions.kubernetes;
const [, k8sMajor, k8sMinor] = /^v(\d+)\.(\d+)\./.exec(k8sVersion) ?? [];
const k8sLdflags = [
  '-s -w',
  `-X k8s.io/component-base/version.gitVersion=${k8sVersion}`,
  `-X k8s.io/component-base/version.gitMajor=${k8sMajor}`,
  `-X k8s.io/component-base/version.gitMinor=${k8sMinor}`,
  `-X k8s.io/client-go/pkg/version.gitVersion=${k8sVersion}`,
  `-X k8s.io/client-go/pkg/version.gitMajor=${k8sMajor}`,
  `-X k8s.io/client-go/pkg/version.gitMinor=${k8sMinor}`,
].join(' ');
const kubernetesWrapperDir = join(stackSourceDir, 'go', 'kubernetes');

const containerdModule = 'github.com/containerd/containerd/v2';
const cniPluginsModule = 'github.com/containernetworking/plugins';
const cniPlugins = ['main/bridge', 'main/loopback', 'ipam/host-local', 'meta/portmap'];

/** runc's seccomp support links libseccomp statically: Debian's libseccomp-dev has the archive. */
async function ensureLibseccompDev(log: (line: string) => void): Promise<void> {
  // gcc prints the archive's full path when its linker would find it, else the bare name.
  const hasLibseccomp = (): boolean =>
    existsSync('/usr/include/seccomp.h') &&
    spawnSync('gcc', ['-print-file-name=libseccomp.a'], { encoding: 'utf8' }).stdout?.trim().startsWith('/') === true;
  if (hasLibseccomp()) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || spawnSync('apt-get', ['--version']).status !== 0) {
    throw new StackBuildError(
      'building runc needs libseccomp-dev (headers and static library); install it (apt-get install libseccomp-dev) and retry',
    );
  }
  log('installing libseccomp-dev with apt-get (runc links it for seccomp profiles)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', 'libseccomp-dev'],
  ]) {
    await run('apt-get', args, { env, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stderr?: string }) => {
      throw new StackBuildError(`apt-get ${args[0]} failed: ${error.stderr?.trim().split('\n').pop() ?? ''}`);
    });
  }
  if (!hasLibseccomp()) throw new StackBuildError('libseccomp-dev was installed but its static library is missing');
}

const recipes: Record<Component, BuildRecipe> = {
  temporal: {
    outputs: [binaries.temporal],
    goArgs: (outDir) => ({
      args: ['install', `github.com/temporalio/cli/cmd/temporal@${versions.temporal}`],
      env: { GOBIN: outDir },
    }),
    expectedMinutes: '3-6',
  },
  kubernetes: {
    outputs: [binaries.kubeApiserver, binaries.kubeControllerManager, binaries.kubeScheduler, binaries.kubectl],
    // The wrapper module pins k8s.io/kubernetes and swaps its staging replaces for published modules.
    goArgs: (outDir) => ({
      cwd: kubernetesWrapperDir,
      args: [
        'build',
        '-trimpath',
        '-o',
        outDir + '/',
        '-ldflags',
        k8sLdflags,
        'k8s.io/kubernetes/cmd/kube-apiserver',
        'k8s.io/kubernetes/cmd/kube-controller-manager',
        'k8s.io/kubernetes/cmd/kube-scheduler',
        'k8s.io/kubernetes/cmd/kubectl',
      ],
    }),
    expectedMinutes: '15-30',
  },
  etcd: {
    outputs: [binaries.etcd],
    goArgs: (outDir) => ({
      cwd: join(stackSourceDir, 'go', 'etcd'),
      args: ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(outDir, 'etcd'), '.'],
    }),
    expectedMinutes: '2-4',
  },
  kwok: {
    outputs: [binaries.kwok, binaries.kwokctl],
    goArgs: (outDir) => ({
      args: ['install', `sigs.k8s.io/kwok/cmd/kwok@${versions.kwok}`, `sigs.k8s.io/kwok/cmd/kwokctl@${versions.kwok}`],
      env: { GOBIN: outDir },
    }),
    expectedMinutes: '4-8',
  },
  // The real node. The kubelet comes from the same wrapper module (same module set) as the
  // control plane, but is its own cache entry; built after it, it reuses most compiled packages.
  kubelet: {
    outputs: [binaries.kubelet],
    goArgs: (outDir) => ({
      cwd: kubernetesWrapperDir,
      args: ['build', '-trimpath', '-o', outDir + '/', '-ldflags', k8sLdflags, 'k8s.io/kubernetes/cmd/kubelet'],
    }),
    expectedMinutes: '1-3',
  },
  containerd: {
    outputs: [binaries.containerd, binaries.containerdShim, binaries.ctr],
    goArgs: (outDir) => ({
      args: [
        'install',
        '-trimpath',
        '-ldflags',
        `-s -w -X ${containerdModule}/version.Version=${versions.containerd}`,
        ...['containerd', 'containerd-shim-runc-v2', 'ctr'].map(
          (cmd) => `${containerdModule}/cmd/${cmd}@${versions.containerd}`,
        ),
      ],
      env: { GOBIN: outDir },
    }),
    expectedMinutes: '4-6',
  },
  runc: {
    outputs: [binaries.runc],
    // runc's own static recipe (Makefile `static`), without libpathrs (optional, needs Rust).
    cgo: true,
    prepare: ensureLibseccompDev,
    goArgs: (outDir) => ({
      args: [
        'install',
        '-trimpath',
        '-tags',
        'seccomp urfave_cli_no_docs netgo osusergo',
        '-ldflags',
        `-s -w -X main.version=${versions.runc.slice(1)} -extldflags=-static`,
        `github.com/opencontainers/runc@${versions.runc}`,
      ],
      env: { GOBIN: outDir },
    }),
    expectedMinutes: '1-2',
  },
  cniPlugins: {
    outputs: cniPlugins.map((plugin) => join(binaries.cniBinDir, plugin.split('/')[1]!)),
    goArgs: (outDir) => ({
      args: [
        'install',
        '-trimpath',
        '-ldflags',
        `-s -w -X ${cniPluginsModule}/pkg/utils/buildversion.BuildVersion=${versions.cniPlugins}`,
        ...cniPlugins.map((plugin) => `${cniPluginsModule}/plugins/${plugin}@${versions.cniPlugins}`),
      ],
      env: { GOBIN: outDir },
    }),
    expectedMinutes: '1-2',
  },
};

export const buildOrder: Component[] = [
  'temporal',
  'etcd',
  'kwok',
  'kubernetes',
  'kubelet',
  'containerd',
  'runc',
  'cniPlugins',
];

/** What only the real node needs; skipped when it is disabled. */
export const realNodeComponents: Component[] = ['kubelet', 'containerd', 'runc', 'cniPlugins'];

export function isBuilt(component: Component): boolean {
  return recipes[component].outputs.every((file) => existsSync(file));
}

function requireGo(): void {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new StackBuildError(
      'Go is required to build the local stack (Go >= 1.26 from https://go.dev/dl or your package manager); `go version` failed',
    );
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function buildComponent(component: Component, log: (line: string) => void): Promise<number> {
  const recipe = recipes[component];
  const finalDir = paths.binDir(component);
  // Build into a scratch directory and rename at the end, so an interrupted build never looks cached.
  const scratchDir = `${finalDir}.partial-${process.pid}`;
  await rm(scratchDir, { recursive: true, force: true });
  await mkdir(scratchDir, { recursive: true });
  await mkdir(paths.buildLogDir, { recursive: true });
  const logFile = join(paths.buildLogDir, `${component}-${versions[component]}.log`);
  const { args, cwd, env } = recipe.goArgs(scratchDir);
  const started = Date.now();
  await recipe.prepare?.(log);
  log(
    `building ${component} ${versions[component]} (cold builds take ~${recipe.expectedMinutes} min on 2 cores); log: ${logFile}`,
  );

  let compiledPackages = 0;
  const out = createWriteStream(logFile);
  const child = spawn('go', [args[0]!, '-v', ...args.slice(1)], {
    cwd,
    env: {
      ...process.env,
      CGO_ENABLED: recipe.cgo ? '1' : '0',
      GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim(),
      GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const countLines = (chunk: Buffer): void => {
    out.write(chunk);
    compiledPackages += chunk
      .toString()
      .split('\n')
      .filter((l) => l && !l.startsWith('go: ')).length;
  };
  child.stdout.on('data', countLines);
  child.stderr.on('data', countLines);
  const ticker = setInterval(() => {
    log(`  … ${component}: ${formatDuration(Date.now() - started)}, ${compiledPackages} packages`);
  }, 30_000);
  const exitCode = await new Promise<number>((resolvePromise) => {
    child.on('error', () => resolvePromise(-1));
    child.on('close', (code) => resolvePromise(code ?? -1));
  }).finally(() => clearInterval(ticker));
  await new Promise((r) => out.end(r));
  if (exitCode !== 0) {
    await rm(scratchDir, { recursive: true, force: true });
    throw new StackBuildError(
      `building ${component} ${versions[component]} failed (go exit ${exitCode}); see ${logFile}`,
    );
  }
  await rm(finalDir, { recursive: true, force: true });
  await rename(scratchDir, finalDir);
  const missing = recipe.outputs.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new StackBuildError(`building ${component} produced no ${missing.join(', ')}; see ${logFile}`);
  }
  const elapsed = Date.now() - started;
  log(`built ${component} ${versions[component]} in ${formatDuration(elapsed)}`);
  return elapsed;
}

/** Builds whatever is not cached yet; never rebuilds a cached component. Returns build times in ms. */
export async function ensureBinaries(
  log: (line: string) => void = console.log,
  components: Component[] = buildOrder,
): Promise<Partial<Record<Component, number>>> {
  const wanted = buildOrder.filter((component) => components.includes(component));
  if (wanted.every(isBuilt)) return {};
  requireGo();
  return withLock(
    join(paths.cacheRoot, 'build.lock'),
    'building the stack',
    async () => {
      const times: Partial<Record<Component, number>> = {};
      // Another process may have built some while we waited for the lock.
      for (const component of wanted.filter((c) => !isBuilt(c)))
        times[component] = await buildComponent(component, log);
      return times;
    },
    log,
  );
}
