/**
 * The operator's install manifests for this project's local stack: k8s/manifests/install/overlays/local-stack with
 * the image set by code (an overlay of it written to a temporary directory: `images:` plus the replacement that
 * keeps SNO_OPERATOR_IMAGE equal to the image), rendered by the stack's own kubectl (`kubectl kustomize`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { binaries } from '../versions.js';
import { repoRoot } from './buildDist.js';

const run = promisify(execFile);

export const installDir = join(repoRoot, 'k8s', 'manifests', 'install');

/** `kubectl kustomize <dir>` with the stack's kubectl; a missing kubectl is a one-line error saying how to build it. */
export async function kustomize(dir: string): Promise<string> {
  if (!existsSync(binaries.kubectl)) {
    throw new Error(`kubectl not found at ${binaries.kubectl}: build the local stack first (npm run stack -- build)`);
  }
  try {
    const { stdout } = await run(binaries.kubectl, ['kustomize', dir], { maxBuffer: 64 << 20 });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${dir} failed: ${failed.stderr?.trim() || failed.message}`);
  }
}

/** Splits `name[:tag]` (a registry port is not a tag) for kustomize's `images:` field. */
export function splitReference(reference: string): { name: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon <= slash) return { name: reference, tag: 'latest' };
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

export async function renderLocalStackInstall(imageReference: string): Promise<string> {
  const { name, tag } = splitReference(imageReference);
  const dir = await mkdtemp(join(tmpdir(), 'sno-local-stack-install-'));
  try {
    const base = relative(dir, join(installDir, 'overlays', 'local-stack'));
    await writeFile(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${base}`,
        'images:',
        '  - name: localhost/symbol-node-operator',
        `    newName: ${name}`,
        `    newTag: ${JSON.stringify(tag)}`,
        'replacements:',
        '  - source:',
        '      kind: Deployment',
        '      name: symbol-node-operator',
        '      fieldPath: spec.template.spec.containers.[name=operator].image',
        '    targets:',
        '      - select:',
        '          kind: Deployment',
        '          name: symbol-node-operator',
        '        fieldPaths:',
        '          - spec.template.spec.containers.[name=operator].env.[name=SNO_OPERATOR_IMAGE].value',
        '',
      ].join('\n'),
    );
    return await kustomize(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
