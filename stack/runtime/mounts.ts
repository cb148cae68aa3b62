import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** mountinfo escapes space, tab, newline and backslash as octal (\040 ...). */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points at or below `dir`, deepest (and most recently mounted) first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter(Boolean);
  const points = lines
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
    .filter((point) => point === dir || point.startsWith(prefix));
  // Later lines are newer mounts; reversing keeps a mount stacked on the same point in order.
  return points.reverse().sort((a, b) => b.split('/').length - a.split('/').length);
}

/**
 * Unmounts everything below `dir` (pod tmpfs, overlay root filesystems, network namespace and
 * volume binds, the kubelet's own rshared bind), so that removing `dir` never reaches through a
 * live mount into a host directory. A busy mount is detached lazily; throws if any mount remains.
 */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) {
      await run('umount', [point]).catch(() => run('umount', ['--lazy', point]).catch(() => undefined));
    }
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) {
    throw new Error(`could not unmount ${left.length} mount(s) under ${dir}, e.g. ${left[0]}; not removing it`);
  }
}
