/**
 * A lock file holding the owner's pid, so that two processes (e.g. `stack build` and a test) never build into
 * the same work directory at once. A lock whose process is gone is stale and taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryAcquire(lockFile: string): Promise<number | undefined> {
  try {
    const handle = await open(lockFile, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    return Number.isInteger(owner) && owner > 0 ? owner : 0;
  }
}

export async function withDirectoryLock<T>(
  lockFile: string,
  log: (line: string) => void,
  body: () => Promise<T>,
): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true });
  let lastNotice = 0;
  for (;;) {
    const owner = await tryAcquire(lockFile);
    if (owner === undefined) break;
    // An empty lock file is being written by its owner; our own pid means another call in this process.
    if (owner !== 0 && owner !== process.pid && !alive(owner)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() - lastNotice > 30_000) {
      log(`waiting for process ${owner || '(starting)'} that holds ${lockFile}`);
      lastNotice = Date.now();
    }
    await sleep(2000);
  }
  try {
    return await body();
  } finally {
    await rm(lockFile, { force: true });
  }
}
