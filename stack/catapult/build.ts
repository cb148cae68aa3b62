/**
 * Builds the peer part of catapult (server, recovery, and the 13 extensions and 14 plugins a peer loads) from
 * ../shared/catapult with cmake + ninja, and caches the stripped outputs outside the repo.
 * Facts behind the recipe: ../shared/catapult/README.md (18 min cold on 2 cores, 23 s with a warm ccache).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { paths } from '../versions.js';
import { CATAPULT_BUILD_PACKAGES, ensureDebianPackages } from './debianPackages.js';
import { withLock } from '../processes.js';
import { catapultPatchFingerprint, patchCatapultSources } from './patch.js';
import { CATAPULT_TARBALL_SHA256, CATAPULT_VERSION, unpackCatapultSource, verifiedCatapultTarball } from './source.js';

export class CatapultBuildError extends Error {
  override name = 'CatapultBuildError';
}

/** What a peer node loads (sai package, harvesting on): config-extensions-{server,recovery}.properties. */
export const CATAPULT_EXTENSIONS = [
  'diagnostics',
  'filespooling',
  'finalization',
  'harvesting',
  'hashcache',
  'nodediscovery',
  'packetserver',
  'pluginhandlers',
  'sync',
  'syncsource',
  'timesync',
  'transactionsink',
  'unbondedpruning',
] as const;

/** The transaction plugins of config-network.properties. */
export const CATAPULT_PLUGINS = [
  'accountlink',
  'aggregate',
  'coresystem',
  'hashcache',
  'lockhash',
  'locksecret',
  'metadata',
  'mosaic',
  'multisig',
  'namespace',
  'restrictionaccount',
  'restrictionmosaic',
  'signature',
  'transfer',
] as const;

/**
 * catapult.tools.health is left out: built as a lone target it fails (its headers come from `_build/inc`, which
 * nothing it depends on generates), and the operator reads heights over the peer protocol anyway.
 */
export const CATAPULT_EXECUTABLES = ['catapult.server', 'catapult.recovery'] as const;

export const CATAPULT_TARGETS: readonly string[] = [
  ...CATAPULT_EXECUTABLES,
  ...CATAPULT_EXTENSIONS.map((name) => `extension.${name}`),
  ...CATAPULT_PLUGINS.map((name) => `catapult.plugins.${name}`),
];

/** Shared libraries the targets produce in the build's bin/ folder. */
export const CATAPULT_LIBRARIES: readonly string[] = [
  ...CATAPULT_EXTENSIONS.map((name) => `libextension.${name}.so`),
  ...CATAPULT_PLUGINS.map((name) => `libcatapult.plugins.${name}.so`),
];

/**
 * Upstream's CMakeGlobalSettings.cmake makes ccache the compile launcher by itself when it is installed, so no
 * launcher flag is passed. CATAPULT_BUILD_DEVELOPMENT skips reading a version from git (our .git is empty).
 */
export const CATAPULT_CMAKE_ARGS: readonly string[] = [
  '-G',
  'Ninja',
  '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
  '-DENABLE_TESTS=OFF',
  '-DCATAPULT_BUILD_DEVELOPMENT=ON',
];

/** Toolchain and library versions that change the binaries; they are part of the cache key. */
const KEYED_PACKAGES = ['gcc-12', 'libboost1.81-dev', 'librocksdb-dev', 'libssl-dev'];

export const catapultPaths = {
  root: join(paths.cacheRoot, 'catapult'),
  /** Survives between builds and machines' CI caches: a rebuild from a warm ccache takes ~25 s. */
  ccache: join(paths.cacheRoot, 'catapult', 'ccache'),
  /** The unpacked source and cmake build tree (~1.1 GB); deleted after a successful build. */
  work: join(paths.cacheRoot, 'catapult', 'work'),
  lock: join(paths.cacheRoot, 'catapult', 'build.lock'),
};

export interface CatapultBuild {
  /** Cache entry: bin/ (executables) and lib/ (extensions and plugins), all stripped. */
  dir: string;
  binDir: string;
  libDir: string;
  key: string;
  /** Set when this call built it (ms), absent when it was cached. */
  builtInMs?: number;
}

function packageVersions(names: readonly string[]): string {
  const probe = spawnSync('dpkg-query', ['-W', '-f=${Package}=${Version}\n', ...names], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : 'unknown';
}

export function catapultBuildKey(toolchain: string): string {
  const recipe = JSON.stringify({
    tarball: CATAPULT_TARBALL_SHA256,
    patch: catapultPatchFingerprint(),
    cmake: CATAPULT_CMAKE_ARGS,
    targets: CATAPULT_TARGETS,
    strip: true,
    toolchain,
  });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 12);
}

export function catapultBuildDir(key: string): string {
  return join(catapultPaths.root, `${CATAPULT_VERSION}-${key}`);
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

interface StepOptions {
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  onOutput?: (text: string) => void;
}

async function runStep(command: string, args: readonly string[], options: StepOptions): Promise<number> {
  const out = createWriteStream(options.logFile, { flags: 'a' });
  out.write(`\n$ (cd ${options.cwd} && ${command} ${args.join(' ')})\n`);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onData = (chunk: Buffer): void => {
    out.write(chunk);
    options.onOutput?.(chunk.toString());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number>((done) => {
    child.on('error', (error) => {
      out.write(`${command}: ${error.message}\n`);
      done(-1);
    });
    child.on('close', (exit) => done(exit ?? -1));
  });
  await new Promise((done) => out.end(done));
  return code;
}

async function buildInto(outDir: string, logFile: string, log: (line: string) => void): Promise<void> {
  const tarball = await verifiedCatapultTarball();
  // cmake refuses to configure unless ../../.git exists above client/catapult: the work dir plays the repo root.
  const sourceRoot = join(catapultPaths.work, 'client', 'catapult');
  const buildDir = join(sourceRoot, '_build');
  await rm(catapultPaths.work, { recursive: true, force: true });
  const files = await unpackCatapultSource(tarball, sourceRoot);
  await patchCatapultSources(sourceRoot);
  await writeFile(logFile, `catapult ${CATAPULT_VERSION}: ${files} files unpacked from ${tarball}, patched\n`);
  const fail = (step: string, code: number): CatapultBuildError =>
    new CatapultBuildError(`building catapult ${CATAPULT_VERSION} failed at ${step} (exit ${code}); see ${logFile}`);

  let code = await runStep('git', ['init', '-q', catapultPaths.work], { cwd: catapultPaths.work, logFile });
  if (code !== 0) throw fail('git init', code);
  await mkdir(buildDir, { recursive: true });
  await mkdir(catapultPaths.ccache, { recursive: true });
  const env = {
    CCACHE_DIR: catapultPaths.ccache,
    // Relative paths and no cwd in the hash: the cache stays valid if the work dir moves.
    CCACHE_BASEDIR: catapultPaths.work,
    CCACHE_NOHASHDIR: '1',
  };
  code = await runStep('cmake', [...CATAPULT_CMAKE_ARGS, '..'], { cwd: buildDir, logFile, env });
  if (code !== 0) throw fail('cmake', code);

  const jobs = availableParallelism();
  let progress = 'starting';
  const started = Date.now();
  const ticker = setInterval(() => {
    log(`  … catapult: ${formatDuration(Date.now() - started)}, step ${progress}`);
  }, 30_000);
  try {
    code = await runStep('ninja', [`-j${jobs}`, ...CATAPULT_TARGETS], {
      cwd: buildDir,
      logFile,
      env,
      onOutput: (text) => {
        const steps = [...text.matchAll(/^\[(\d+\/\d+)\]/gm)];
        if (steps.length > 0) progress = steps[steps.length - 1]![1]!;
      },
    });
  } finally {
    clearInterval(ticker);
  }
  if (code !== 0) throw fail('ninja', code);

  await mkdir(join(outDir, 'bin'), { recursive: true });
  await mkdir(join(outDir, 'lib'), { recursive: true });
  const outputs = [
    ...CATAPULT_EXECUTABLES.map((name) => ({ name, to: join(outDir, 'bin', name), args: ['--strip-all'] })),
    ...CATAPULT_LIBRARIES.map((name) => ({ name, to: join(outDir, 'lib', name), args: ['--strip-unneeded'] })),
  ];
  for (const output of outputs) {
    const from = join(buildDir, 'bin', output.name);
    if (!existsSync(from))
      throw new CatapultBuildError(`the catapult build produced no ${output.name}; see ${logFile}`);
    code = await runStep('strip', [...output.args, '-o', output.to, from], { cwd: buildDir, logFile });
    if (code !== 0) throw fail(`strip ${output.name}`, code);
  }
}

/**
 * Returns the cached catapult build, building it first when needed (installing the Debian packages it needs,
 * which the image needs too, so that check always runs). Safe to call from several processes: one builds, the
 * others wait for it.
 */
export async function ensureCatapultBuild(log: (line: string) => void = console.log): Promise<CatapultBuild> {
  await ensureDebianPackages(CATAPULT_BUILD_PACKAGES, log);
  const key = catapultBuildKey(packageVersions(KEYED_PACKAGES));
  const dir = catapultBuildDir(key);
  const result = (builtInMs?: number): CatapultBuild => ({
    dir,
    binDir: join(dir, 'bin'),
    libDir: join(dir, 'lib'),
    key,
    ...(builtInMs !== undefined ? { builtInMs } : {}),
  });
  if (existsSync(dir)) return result();

  return withLock(
    catapultPaths.lock,
    'building catapult',
    async () => {
      if (existsSync(dir)) return result(); // built by whoever held the lock
      await mkdir(paths.buildLogDir, { recursive: true });
      const logFile = join(paths.buildLogDir, `catapult-${CATAPULT_VERSION}-${key}.log`);
      const ccacheWarm = existsSync(join(catapultPaths.ccache, 'stats')) || existsSync(join(catapultPaths.ccache, '0'));
      log(
        `building catapult ${CATAPULT_VERSION} (${CATAPULT_TARGETS.length} targets; ~18 min cold on 2 cores, under a minute with a warm ccache${ccacheWarm ? ', ccache present' : ''}); log: ${logFile}`,
      );
      const started = Date.now();
      // Built into a scratch directory and renamed at the end, so an interrupted build never looks cached.
      const scratch = `${dir}.partial-${process.pid}`;
      await rm(scratch, { recursive: true, force: true });
      try {
        await buildInto(scratch, logFile, log);
        await writeFile(
          join(scratch, 'build.json'),
          JSON.stringify(
            { version: CATAPULT_VERSION, key, targets: CATAPULT_TARGETS, cmake: CATAPULT_CMAKE_ARGS },
            null,
            2,
          ),
        );
        await rename(scratch, dir);
      } catch (error) {
        await rm(scratch, { recursive: true, force: true });
        throw error;
      }
      // The build tree is 1.1 GB; the ccache alone makes the next build fast. Older builds are never read again.
      await rm(catapultPaths.work, { recursive: true, force: true });
      for (const name of await readdir(catapultPaths.root)) {
        if (/^v[\d.]+-[0-9a-f]{12}$/.test(name) && name !== `${CATAPULT_VERSION}-${key}`) {
          await rm(join(catapultPaths.root, name), { recursive: true, force: true });
        }
      }
      const elapsed = Date.now() - started;
      log(`built catapult ${CATAPULT_VERSION} in ${formatDuration(elapsed)} → ${dir}`);
      return result(elapsed);
    },
    log,
  );
}
