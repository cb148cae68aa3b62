/** Processes of real containers on the stack's real node, seen from the host (tests run as root on that host). */
import { readdir, readFile } from 'node:fs/promises';

/** `containerd://<id>` → the PIDs on the host whose cgroup names that container and whose command line matches. */
export async function containerProcesses(containerId: string, command: RegExp): Promise<number[]> {
  const id = containerId.replace(/^[a-z]+:\/\//, '');
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [cgroup, cmdline] = await Promise.all([
        readFile(`/proc/${entry}/cgroup`, 'utf8'),
        readFile(`/proc/${entry}/cmdline`, 'utf8'),
      ]);
      if (cgroup.includes(id) && command.test(cmdline.replaceAll('\0', ' '))) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
