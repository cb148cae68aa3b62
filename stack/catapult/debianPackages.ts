/**
 * The Debian 12 packages the catapult build and image need, installed with apt when missing. Every machine and
 * CI starts bare, so the project installs them itself; a machine that is not Debian gets the list to install.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { paths } from '../versions.js';

/**
 * Boost components: exactly `CATAPULT_BOOST_COMPONENTS` of CMakeGlobalSettings.cmake (atomic chrono date_time
 * filesystem log log_setup program_options regex thread; log_setup ships in libboost-log). Their -dev packages
 * pull in libboost1.81-dev (headers, BoostConfig.cmake).
 */
const BOOST_COMPONENT_PACKAGES = [
  'atomic',
  'chrono',
  'date-time',
  'filesystem',
  'log',
  'program-options',
  'regex',
  'thread',
].map((component) => `libboost-${component}1.81-dev`);

export const CATAPULT_BUILD_PACKAGES: readonly string[] = [
  'cmake',
  'ninja-build',
  'g++',
  'ccache',
  ...BOOST_COMPONENT_PACKAGES,
  'libssl-dev',
  'librocksdb-dev',
  'git',
  // binutils comes with g++; strip is used on the outputs
  'binutils',
  // the image's /bin/sh and rm for the pod's start scripts
  'busybox-static',
];

export class DebianPackagesError extends Error {
  override name = 'DebianPackagesError';
}

export function missingDebianPackages(packages: readonly string[]): string[] {
  const probe = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], {
    encoding: 'utf8',
  });
  if (probe.error) return [...packages]; // no dpkg: nothing is known to be installed
  const installed = new Set(
    probe.stdout
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name!.replace(/:.*$/, '')),
  );
  return packages.filter((name) => !installed.has(name));
}

async function run(command: string, args: string[], logFile: string): Promise<number> {
  const out = createWriteStream(logFile, { flags: 'a' });
  out.write(`$ ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const code = await new Promise<number>((done) => {
    child.on('error', () => done(-1));
    child.on('close', (exit) => done(exit ?? -1));
  });
  await new Promise((done) => out.end(done));
  return code;
}

/** Installs whatever of `packages` is missing (`apt-get update` once, then one `apt-get install`). */
export async function ensureDebianPackages(
  packages: readonly string[],
  log: (line: string) => void,
): Promise<string[]> {
  const missing = missingDebianPackages(packages);
  if (missing.length === 0) return [];
  const hasApt = spawnSync('apt-get', ['--version']).status === 0;
  const isRoot = process.getuid?.() === 0;
  if (!hasApt || !isRoot) {
    throw new DebianPackagesError(
      `the catapult build needs these Debian 12 packages: ${missing.join(' ')} (${hasApt ? 'run as root to install them' : 'no apt-get on this machine'})`,
    );
  }
  await mkdir(paths.buildLogDir, { recursive: true });
  const logFile = join(paths.buildLogDir, 'catapult-apt.log');
  log(`installing Debian packages: ${missing.join(' ')}; log: ${logFile}`);
  // Other tools may hold the dpkg lock for a while (another engineer's install): wait instead of failing.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  if ((await run('apt-get', [...lockWait, 'update'], logFile)) !== 0) {
    throw new DebianPackagesError(`apt-get update failed; see ${logFile}`);
  }
  const code = await run('apt-get', [...lockWait, 'install', '-y', '--no-install-recommends', ...missing], logFile);
  const still = missingDebianPackages(packages);
  if (code !== 0 || still.length > 0) {
    throw new DebianPackagesError(
      `apt-get install failed (exit ${code}${still.length ? `, still missing: ${still.join(' ')}` : ''}); see ${logFile}`,
    );
  }
  return missing;
}
