/**
 * What of the installed packages and of package.json the operator image carries: shared by the offline builder
 * (operatorImage.ts) and the Containerfile, which runs this file on its production install:
 *   tsx stack/image/productionFiles.ts <dir>    # prunes <dir>/node_modules, writes <dir>/package.json
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const coreBridgeTarget = `${{ x64: 'x86_64', arm64: 'aarch64' }[process.arch as 'x64' | 'arm64'] ?? process.arch}-unknown-linux-gnu`;

/** Whether the image keeps an installed package's file (`path` relative to the app root: node_modules/...). */
export function keepModuleFile(path: string): boolean {
  if (/\.(d\.[cm]?ts|ts|map|md|markdown)$/i.test(path) && !/\/LICEN[CS]E/i.test(path)) return false;
  if (/^node_modules\/(\.bin\/|\.package-lock\.json$)/.test(path)) return false;
  const bridge = /^node_modules\/@temporalio\/core-bridge\/([^/]+)(?:\/([^/]+))?/.exec(path);
  if (bridge) {
    // The Rust sources and the build scripts; only this platform's prebuilt binary is loaded.
    if (['sdk-core', 'src', 'bridge-macros', 'scripts', 'Cargo.toml', 'Cargo.lock'].includes(bridge[1]!)) return false;
    if (bridge[1] === 'releases' && bridge[2] !== coreBridgeTarget) return false;
  }
  // Native builds for the Bare runtime (a dependency of a dependency), which Node never loads.
  if (/^node_modules\/bare-[^/]+\/prebuilds\//.test(path)) return false;
  // swc compiles workflow code while bundling, which the image never does (dist/workflow-bundle.js is prebuilt).
  if (/^node_modules\/@swc\/core-[^/]+\//.test(path)) return false;
  return true;
}

/** package.json as the image needs it: `"type": "module"` for dist/, no scripts or devDependencies. */
export function runtimePackageJson(manifest: Record<string, unknown>): string {
  const fields = ['name', 'version', 'description', 'license', 'type', 'engines', 'dependencies'];
  const kept = Object.fromEntries(fields.filter((f) => manifest[f] !== undefined).map((f) => [f, manifest[f]]));
  return `${JSON.stringify(kept, null, 2)}\n`;
}

async function prune(appDir: string): Promise<number> {
  let removed = 0;
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (!keepModuleFile(relative(appDir, full).split(sep).join('/'))) {
        await rm(full);
        removed += 1;
      }
    }
  };
  await visit(join(appDir, 'node_modules'));
  return removed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const appDir = resolve(process.argv[2] ?? '.');
  const manifest = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(appDir, 'package.json'), runtimePackageJson(manifest));
  console.log(`[image] ${await prune(appDir)} files pruned from ${join(appDir, 'node_modules')}`);
}
