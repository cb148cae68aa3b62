import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Read-only reference material laid beside the checkout (also in CI); never copied into git. */
export const sharedDir = process.env.SYMBOL_SHARED_DIR ?? resolve(repoRoot, '../shared');

export const saiPackageDir = resolve(sharedDir, 'networks/sai');
export const saiPackageZip = resolve(sharedDir, 'networks/sai.zip');
