/**
 * Symbol's own node setup tool (shoestring, PyPI `symbol-shoestring`) as a test oracle.
 *
 * The venv lives outside the repo, keyed by version, and is created on first use so a fresh CI machine needs no
 * manual step (python3 >= 3.10 and PyPI access; ~30 s once). `shoestring_offline_setup.py` then runs the real
 * `setup` command with its three network calls replaced (see that file).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SHOESTRING_VERSION = '0.2.3';

const supportDir = dirname(fileURLToPath(import.meta.url));
const driverScript = resolve(supportDir, 'shoestring_offline_setup.py');

export function shoestringVenvDir(): string {
  if (process.env.SHOESTRING_VENV) return process.env.SHOESTRING_VENV;
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'symbol-node-operator', `shoestring-venv-${SHOESTRING_VERSION}`);
}

export interface ShoestringInstall {
  readonly python: string;
  /** True when this call had to create the venv. */
  readonly created: boolean;
}

/** Creates the venv unless a complete one exists (a marker is written only after a successful install). */
export async function ensureShoestring(): Promise<ShoestringInstall> {
  const venv = shoestringVenvDir();
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, '.symbol-node-operator-complete');
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === SHOESTRING_VERSION)
    return { python, created: false };

  await rm(venv, { recursive: true, force: true });
  await mkdir(dirname(venv), { recursive: true });
  const basePython = process.env.PYTHON ?? 'python3';
  await run(basePython, ['-m', 'venv', venv], { timeout: 120_000 });
  await run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `symbol-shoestring==${SHOESTRING_VERSION}`],
    {
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const { stdout } = await run(python, ['-c', 'import importlib.metadata as m; print(m.version("symbol-shoestring"))']);
  if (stdout.trim() !== SHOESTRING_VERSION)
    throw new Error(`venv at ${venv} has symbol-shoestring ${stdout.trim()}, wanted ${SHOESTRING_VERSION}`);
  await writeFile(marker, `${SHOESTRING_VERSION}\n`);
  return { python, created: true };
}

export interface ShoestringSetupSpec {
  /** `file://` URL of the package zip. */
  readonly package: string;
  /** Empty or missing directory; receives shoestring.ini, overrides.ini and the node directory `node/`. */
  readonly workDir: string;
  readonly caKeyPath: string;
  /** shoestring.ini `[node] features`, e.g. `PEER`, `API`, `API|HARVESTER|VOTER`. */
  readonly features: string;
  readonly lightApi: boolean;
  readonly apiHttps: boolean;
  readonly caCommonName: string;
  readonly nodeCommonName: string;
  readonly host: string;
  readonly friendlyName: string;
  readonly peersP2p: readonly unknown[];
  readonly peersApi: readonly unknown[];
  readonly finalizationEpoch: number;
}

/** Runs the offline setup and returns the node directory shoestring wrote (`<workDir>/node`). */
export async function runShoestringSetup(python: string, spec: ShoestringSetupSpec): Promise<string> {
  await mkdir(spec.workDir, { recursive: true });
  const specPath = join(spec.workDir, 'spec.json');
  await writeFile(specPath, JSON.stringify(spec));
  try {
    await run(python, [driverScript, specPath], { cwd: spec.workDir, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `shoestring setup failed for ${spec.features}: ${(error as Error).message}\n${stdout ?? ''}\n${stderr ?? ''}`,
    );
  }
  return join(spec.workDir, 'node');
}
