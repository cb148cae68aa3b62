import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Starts a long-running server detached from this process, so it outlives `stack up`. */
export async function startDetached(
  command: string,
  args: string[],
  logFile: string,
  pidFile: string,
  env?: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<number> {
  await mkdir(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: env ?? process.env, cwd });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    await writeFile(pidFile, String(child.pid));
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the grace period; removes the pid file. */
export async function stopProcess(pidFile: string, graceMs = 10_000): Promise<boolean> {
  const pid = await readPid(pidFile);
  await rm(pidFile, { force: true });
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 'SIGTERM'); // the whole process group started by startDetached
  } catch {
    process.kill(pid, 'SIGTERM');
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
  }
  return true;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${detail}`);
}

/**
 * Runs `body` while holding `lockFile` (created exclusively, holding our pid), so that several
 * `stack up`/`npm test` runs on one machine build and start the stack one at a time instead of
 * racing over the same cache entries, pid files and ports. A lock whose process died is taken over.
 */
export async function withLock<T>(
  lockFile: string,
  what: string,
  body: () => Promise<T>,
  log: (line: string) => void = console.log,
): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true });
  let told = false;
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const content = await readFile(lockFile, 'utf8').catch(() => undefined);
    const holder = Number(content);
    if (content !== undefined && content !== '' && !(Number.isInteger(holder) && isAlive(holder))) {
      await rm(lockFile, { force: true }); // its process is gone
      continue;
    }
    if (!told && content) log(`waiting for another process (pid ${content}) that is ${what}`);
    told = true;
    await sleep(500);
  }
  try {
    return await body();
  } finally {
    await rm(lockFile, { force: true });
  }
}
