/**
 * Faults of the stack's own servers, for the tests that show the operator outlives them: kube-apiserver
 * stopped and started again alone while etcd, the controllers and the nodes keep running (a control-plane
 * reboot), and the Temporal dev server SIGKILLed and restarted on the same database file (a crash).
 */
import * as k8s from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { isAlive, readPid, startDetached, waitFor } from './processes.js';
import { startTemporal } from './temporalServer.js';
import { endpoints, paths } from './versions.js';

/** What it takes to start a process again as it was: read from /proc while it still runs. */
interface ProcessImage {
  pidFile: string;
  logFile: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

const pidsDir = (): string => join(paths.clusterDir, 'pids');
const apiserverPidFile = (): string => join(pidsDir(), 'kube-apiserver.pid');
/**
 * The stopped components' images, kept beside kwokctl's own state (pki/ holds the cluster's keys, so
 * the environment is no more exposed here), so that another process, or `stack up`, can start them again.
 */
const imagesFile = (): string => join(paths.clusterDir, 'stopped-components.json');

async function processImage(pidFile: string, pid: number): Promise<ProcessImage> {
  const component = basename(pidFile, '.pid');
  const [cmdline, environ, cwd] = await Promise.all([
    readFile(`/proc/${pid}/cmdline`, 'utf8'),
    readFile(`/proc/${pid}/environ`, 'utf8'),
    readlink(`/proc/${pid}/cwd`),
  ]);
  const env = Object.fromEntries(
    environ
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  return {
    pidFile,
    logFile: join(paths.clusterDir, 'logs', `${component}.log`),
    argv: cmdline.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1),
    env,
    cwd,
  };
}

/** Every cluster component kwokctl started (etcd, kube-apiserver, the controllers, the scheduler) that runs. */
async function runningComponents(): Promise<ProcessImage[]> {
  if (!existsSync(pidsDir())) throw new Error(`no KWOK cluster at ${paths.clusterDir}: run \`npm run stack -- up\``);
  const images: ProcessImage[] = [];
  for (const file of (await readdir(pidsDir())).filter((f) => f.endsWith('.pid'))) {
    const pidFile = join(pidsDir(), file);
    const pid = await readPid(pidFile);
    if (pid !== undefined) images.push(await processImage(pidFile, pid));
  }
  return images;
}

async function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

async function killAndWait(pid: number, what: string): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitFor(what, () => Promise.resolve(isAlive(pid) ? undefined : true), 10_000, 20);
}

/**
 * SIGKILLs kube-apiserver, as a crash or a power cut would (no graceful drain): when this returns the
 * process is gone and its port refuses connections. The other components keep running and lose it too.
 */
export async function stopKubeApiserver(): Promise<void> {
  const pid = await readPid(apiserverPidFile());
  if (pid === undefined) throw new Error('kube-apiserver is not running');
  const images = await runningComponents();
  await writeFile(imagesFile(), JSON.stringify(images), { mode: 0o600 });
  await killAndWait(pid, 'kube-apiserver to exit');
  await waitFor(
    `port ${endpoints.kubeApiserverPort} to refuse connections`,
    async () => ((await portRefuses(endpoints.kubeApiserverPort)) ? true : undefined),
    10_000,
    50,
  );
}

/** True while kube-apiserver's port refuses connections (a fault test checks nobody brought it back early). */
export async function kubeApiserverRefuses(): Promise<boolean> {
  return portRefuses(endpoints.kubeApiserverPort);
}

async function apiserverReady(): Promise<boolean> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  return new k8s.Health(kc).readyz({ timeout: 2000 });
}

/**
 * Starts kube-apiserver again with the binary, arguments, environment and directory it ran with, records
 * its pid where kwokctl keeps it (so `stack down` stops it), and waits until /readyz answers ok. A
 * component that exited while the API server was gone (a controller that lost its leader lease exits by
 * design) is started again too, as a real control plane's supervisor would. False if nothing was stopped.
 */
export async function startKubeApiserver(): Promise<boolean> {
  if (!existsSync(imagesFile())) return false;
  if ((await readPid(join(pidsDir(), 'etcd.pid'))) === undefined) {
    // The whole cluster went down since (a reboot): kwokctl starts it as a whole, not this.
    await rm(imagesFile(), { force: true });
    return false;
  }
  const images = JSON.parse(await readFile(imagesFile(), 'utf8')) as ProcessImage[];
  const apiserver = images.find((image) => image.pidFile === apiserverPidFile());
  if (apiserver && (await readPid(apiserver.pidFile)) === undefined) {
    await startImage(apiserver);
    await waitFor('kube-apiserver /readyz', async () => ((await apiserverReady()) ? true : undefined), 120_000, 250);
  }
  for (const image of images.filter((i) => i !== apiserver)) {
    if ((await readPid(image.pidFile)) === undefined) await startImage(image);
  }
  await rm(imagesFile(), { force: true });
  return true;
}

async function startImage(image: ProcessImage): Promise<void> {
  const [command, ...args] = image.argv as [string, ...string[]];
  await startDetached(command, args, image.logFile, image.pidFile, image.env, image.cwd);
}

/** SIGKILLs the Temporal dev server (the whole process group it runs in) and waits until its port refuses. */
export async function killTemporal(): Promise<void> {
  const pid = await readPid(paths.temporalPid);
  if (pid === undefined) throw new Error('the Temporal dev server is not running');
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  await waitFor('the Temporal dev server to exit', () => Promise.resolve(isAlive(pid) ? undefined : true), 10_000, 20);
  const port = Number(endpoints.temporalAddress.split(':')[1]);
  await waitFor(
    `port ${port} to refuse connections`,
    async () => ((await portRefuses(port)) ? true : undefined),
    10_000,
    50,
  );
}

/** Starts the Temporal dev server again on the same database file and waits until it serves. */
export async function startTemporalAgain(): Promise<void> {
  // startTemporal keeps the database file and waits until the frontend serves the operator's search attributes.
  await startTemporal();
}
