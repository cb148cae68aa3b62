/**
 * `npm run image`: the operator image, built on this machine without a container engine (the Containerfile at the
 * repository root builds the same file set where Docker or buildah and a registry exist).
 *
 * Three layers, least to most often changed:
 *  1. runtime: this machine's Node binary, exactly the shared libraries it and the native addons load (ldd),
 *     /etc/passwd and /etc/group with the distroless `nonroot` user (65532), CA certificates, /tmp — no shell;
 *  2. production node_modules (the `npm ls --omit=dev` set of the installed tree), without other platforms'
 *     Temporal core binaries, the Rust sources, type declarations, source maps and the bundler's native compiler
 *     (the workflows come prebuilt);
 *  3. the app: dist/ (tsc output, CRD YAML, workflow bundle) and a trimmed package.json under /app.
 *
 * The archive is cached under <cache>/images/operator-<key>/, keyed by everything that goes in (sources, lock
 * file, Node binary, libraries, this builder), and tagged by content: localhost/symbol-node-operator:<16 hex>.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withLock } from '../processes.js';
import { paths } from '../versions.js';
import { buildDist, distDir, repoRoot } from './buildDist.js';
import { writeOciArchive, type ImageEntry, type WrittenImage } from './oci.js';
import { keepModuleFile, runtimePackageJson } from './productionFiles.js';
import { libraryEntries, sharedLibraries } from './sharedLibraries.js';

const run = promisify(execFile);

export const operatorImageName = 'localhost/symbol-node-operator';
/** Bumped when the image layout changes without any input changing. */
const BUILDER_VERSION = '1';
const NONROOT = 65532;
const NODE_IN_IMAGE = '/usr/local/bin/node';
const imageCacheDir = join(paths.cacheRoot, 'images');
/** Product code and what the build reads; tests, bench and the stack tooling stay out of the image and the key. */
const sourceDirs = ['workflows', 'activities', 'worker', 'client', 'k8s', 'symbol', 'stack/image'];
const sourceFiles = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export async function ensureOperatorImage(log: (line: string) => void): Promise<WrittenImage> {
  const started = Date.now();
  const key = await inputKey();
  const dir = join(imageCacheDir, `operator-${key.slice(0, 16)}`);
  const record = join(dir, 'image.json');
  const cached = async (): Promise<WrittenImage | undefined> => {
    if (!existsSync(record)) return undefined;
    const image = JSON.parse(await readFile(record, 'utf8')) as WrittenImage;
    if (!existsSync(image.archive)) return undefined;
    log(`operator image ${image.reference} (cached, ${seconds(started)})`);
    return image;
  };
  const found = await cached();
  if (found) return found;
  // One build at a time: it rewrites dist/, which a concurrent build (another test file) would be packing.
  return withLock(
    join(imageCacheDir, 'operator-build.lock'),
    'building the operator image',
    async () => {
      return (await cached()) ?? (await buildImage(dir, record, started, log));
    },
    log,
  );
}

async function buildImage(
  dir: string,
  record: string,
  started: number,
  log: (line: string) => void,
): Promise<WrittenImage> {
  await buildDist(log);
  const [runtime, modules, app] = await Promise.all([runtimeLayer(), nodeModulesLayer(), appLayer()]);
  const scratch = `${dir}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const version = (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const written = await writeOciArchive(
    {
      name: operatorImageName,
      layers: [runtime, modules, app],
      config: {
        Entrypoint: [NODE_IN_IMAGE, '/app/dist/worker/main.js'],
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production'],
        User: `${NONROOT}:${NONROOT}`,
        WorkingDir: '/app',
        Labels: {
          'org.opencontainers.image.title': 'symbol-node-operator',
          'org.opencontainers.image.version': version,
          'org.opencontainers.image.licenses': 'Apache-2.0',
        },
      },
    },
    join(scratch, 'image.tar'),
  );
  await rm(dir, { recursive: true, force: true });
  await rename(scratch, dir);
  const image: WrittenImage = { ...written, archive: join(dir, 'image.tar') };
  await writeFile(record, `${JSON.stringify(image, null, 2)}\n`);
  await pruneOldImages(dir);
  log(`operator image ${image.reference}: ${(image.bytes / 1e6).toFixed(1)} MB archive in ${seconds(started)}`);
  return image;
}

/** Keeps the newest few builds (a branch switch back reuses one); each is ~65 MB. */
async function pruneOldImages(current: string, keep = 3): Promise<void> {
  const builds: { dir: string; mtime: number }[] = [];
  for (const name of await readdir(imageCacheDir)) {
    if (!/^operator-[0-9a-f]{16}$/.test(name)) continue;
    const dir = join(imageCacheDir, name);
    builds.push({ dir, mtime: (await lstat(dir)).mtimeMs });
  }
  builds.sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of builds.slice(keep)) if (dir !== current) await rm(dir, { recursive: true, force: true });
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

// ---------------------------------------------------------------- layers

async function runtimeLayer(): Promise<ImageEntry[]> {
  const libraries = await sharedLibraries([process.execPath, ...(await nativeAddons())]);
  const entries: ImageEntry[] = [
    { path: NODE_IN_IMAGE, mode: 0o755, source: process.execPath },
    ...libraryEntries(libraries),
    {
      path: 'etc/passwd',
      mode: 0o644,
      content: `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`,
    },
    { path: 'etc/group', mode: 0o644, content: `root:x:0:\nnonroot:x:${NONROOT}:\n` },
    // glibc's defaults without this file differ between versions; say it.
    { path: 'etc/nsswitch.conf', mode: 0o644, content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    { path: 'home/nonroot', type: 'dir', mode: 0o755, uid: NONROOT, gid: NONROOT },
    { path: 'root', type: 'dir', mode: 0o700 },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    // Mount points the runtime fills (Temporal's core reads /proc for the cgroup memory limit).
    { path: 'proc', type: 'dir', mode: 0o555 },
    { path: 'sys', type: 'dir', mode: 0o555 },
    { path: 'dev', type: 'dir', mode: 0o755 },
  ];
  // Temporal's core (Rust) verifies a TLS server against the system roots when no CA file is given.
  if (existsSync(CA_BUNDLE)) entries.push({ path: CA_BUNDLE, mode: 0o644, source: CA_BUNDLE });
  return entries;
}

async function nativeAddons(): Promise<string[]> {
  const addons: string[] = [];
  for (const pkg of await productionPackages()) {
    for (const file of await walk(pkg))
      if (file.endsWith('.node') && keepModuleFile(relative(repoRoot, file))) addons.push(file);
  }
  return addons;
}

async function appLayer(): Promise<ImageEntry[]> {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  const entries: ImageEntry[] = [{ path: 'app/package.json', mode: 0o644, content: runtimePackageJson(manifest) }];
  for (const file of await walk(distDir)) {
    if (file.endsWith('.map')) continue; // no --enable-source-maps at run time
    entries.push({ path: `app/dist/${relative(distDir, file).split(sep).join('/')}`, mode: 0o644, source: file });
  }
  return entries;
}

async function nodeModulesLayer(): Promise<ImageEntry[]> {
  const entries: ImageEntry[] = [];
  for (const pkg of await productionPackages()) {
    for (const file of await walk(pkg, (dir) => !dir.endsWith(`${sep}node_modules`))) {
      const path = relative(repoRoot, file).split(sep).join('/');
      if (!keepModuleFile(path)) continue;
      const info = await lstat(file);
      if (info.isSymbolicLink()) entries.push({ path: `app/${path}`, type: 'symlink', target: await readlink(file) });
      else entries.push({ path: `app/${path}`, mode: info.mode & 0o111 ? 0o755 : 0o644, source: file });
    }
  }
  return entries;
}

let packages: Promise<string[]> | undefined;
/** Directories of the installed production packages (the root's `npm ls --omit=dev` set), sorted. */
function productionPackages(): Promise<string[]> {
  return (packages ??= listProductionPackages());
}

async function listProductionPackages(): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: repoRoot,
      maxBuffer: 64 << 20,
    }));
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(
      `npm ls --omit=dev failed (run npm ci first): ${failed.stderr?.trim().split('\n')[0] ?? failed.message}`,
    );
  }
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && line !== repoRoot && line.startsWith(join(repoRoot, 'node_modules')))
    .sort();
}

async function walk(dir: string, descend: (dir: string) => boolean = () => true): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (descend(full)) files.push(...(await walk(full, descend)));
    } else if (entry.isFile() || entry.isSymbolicLink()) files.push(full);
  }
  return files.sort();
}

// ---------------------------------------------------------------- cache key

/** TypeScript sources and the CRD YAML: what dist/ is made of (install manifests and READMEs are not). */
function entersImage(file: string): boolean {
  const path = relative(repoRoot, file).split(sep).join('/');
  if (path.startsWith('k8s/manifests/'))
    return /^k8s\/manifests\/crd\/[^/]+\.yaml$/.test(path) && !path.endsWith('kustomization.yaml');
  return path.endsWith('.ts');
}

async function inputKey(): Promise<string> {
  const hash = createHash('sha256').update(`builder ${BUILDER_VERSION}\nnode ${process.version}\n`);
  const files = [...sourceFiles.map((file) => join(repoRoot, file))];
  for (const dir of sourceDirs) files.push(...(await walk(join(repoRoot, dir))).filter(entersImage));
  files.push(process.execPath);
  // The addons' libraries are a subset of Node's (glibc, libgcc); a changed library makes a new image.
  for (const library of await sharedLibraries([process.execPath])) {
    hash.update(`${library.path}\n`);
    files.push(library.file);
  }
  for (const file of files.sort()) {
    // Repository files by their relative path, so that every checkout of the same commit gets the same key.
    hash.update(`${file.startsWith(`${repoRoot}${sep}`) ? relative(repoRoot, file) : file}\n`);
    await new Promise<void>((resolve, reject) =>
      createReadStream(file)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', resolve)
        .on('error', reject),
    );
  }
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const image = await ensureOperatorImage((line) => console.log(`[image] ${line}`));
  console.log(image.reference);
  console.log(`archive: ${image.archive}`);
  console.log(`load it: ctr -n k8s.io images import ${image.archive}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`image: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
