/** Helpers for tests that run real containers on the local stack's real node. */
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeOciArchive } from '../../stack/image/oci.js';
import {
  importImage,
  realNodeName,
  realNodePlacement,
  realNodeSkipReason,
  realNodeStorageClass,
} from '../../stack/realNode.js';
import { paths } from '../../stack/versions.js';
import { uniqueName } from './cluster.js';

const run = promisify(execFile);

export { realNodeName, realNodeSkipReason, realNodeStorageClass };

/** The pod spec with the real node's selector and toleration added. */
export function onRealNode(spec: k8s.V1PodSpec): k8s.V1PodSpec {
  return {
    ...spec,
    nodeSelector: { ...spec.nodeSelector, ...realNodePlacement.nodeSelector },
    tolerations: [...(spec.tolerations ?? []), ...(realNodePlacement.tolerations ?? [])],
  };
}

export interface LocalVolume {
  /** the PersistentVolume's name */
  name: string;
  /** its backing directory on the host */
  path: string;
  /** deletes the PersistentVolume and its directory */
  remove: () => Promise<void>;
}

/**
 * A `local` PersistentVolume of class real-node-local on the real node, backed by a fresh directory
 * that uid/gid 1000 may write (the kubelet also applies a pod's fsGroup to `local` volumes). A
 * claim of that class binds to it once a pod using the claim is scheduled (WaitForFirstConsumer).
 */
export async function createLocalVolume(
  kc: k8s.KubeConfig,
  options: { capacity?: string; uid?: number; gid?: number } = {},
): Promise<LocalVolume> {
  const name = uniqueName('real-local');
  const path = join(paths.realNode.localVolumesDir, name);
  await mkdir(path, { recursive: true });
  await chown(path, options.uid ?? 1000, options.gid ?? 1000);
  await chmod(path, 0o2775);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createPersistentVolume({
    body: {
      metadata: { name },
      spec: {
        capacity: { storage: options.capacity ?? '1Gi' },
        accessModes: ['ReadWriteOnce'],
        // Nothing provisions or recycles `local` volumes; remove() cleans up.
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: realNodeStorageClass,
        local: { path },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [realNodeName] }] },
            ],
          },
        },
      },
    },
  });
  return {
    name,
    path,
    remove: async () => {
      await core.deletePersistentVolume({ name }).catch(() => undefined);
      await rm(path, { recursive: true, force: true });
    },
  };
}

/**
 * A tiny static program for real containers, as an image imported into the real node:
 * `probe exit N` exits N; `probe write FILE` writes FILE and exits 0; `probe listen PORT` answers
 * every TCP connection with "ok\n" (and prints one line first, for `kubectl logs`).
 */
const probeSource = `
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  if (strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
  if (strcmp(argv[1], "write") == 0) {
    FILE *file = fopen(argv[2], "w");
    if (file == NULL) { perror(argv[2]); return 1; }
    fputs("written by probe\\n", file);
    return fclose(file) == 0 ? 0 : 1;
  }
  if (strcmp(argv[1], "listen") == 0) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0 || listen(server, 16) < 0) {
      perror("listen");
      return 1;
    }
    printf("probe listening on %s\\n", argv[2]);
    fflush(stdout);
    for (;;) {
      int client = accept(server, NULL, NULL);
      if (client >= 0) { (void)!write(client, "ok\\n", 3); close(client); }
    }
  }
  return 2;
}
`;

let probeImage: Promise<string> | undefined;

/** Builds (once per machine and source) and imports the probe image; resolves to its reference. */
export function ensureProbeImage(): Promise<string> {
  probeImage ??= (async () => {
    const hash = createHash('sha256').update(probeSource).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), 'symbol-node-operator-test-images', `probe-${hash}`);
    const manifest = join(dir, 'image.json');
    if (!existsSync(manifest)) {
      const scratch = `${dir}.partial-${process.pid}`;
      await mkdir(scratch, { recursive: true });
      const source = join(scratch, 'probe.c');
      await writeFile(source, probeSource);
      await run('gcc', ['-static', '-O2', '-s', '-o', join(scratch, 'probe'), source]);
      const image = await writeOciArchive(
        {
          name: 'localhost/symbol-node-operator/test-probe',
          layers: [[{ path: 'probe', mode: 0o755, source: join(scratch, 'probe') }]],
          config: { Entrypoint: ['/probe'] },
        },
        join(scratch, 'image.tar'),
      );
      await writeFile(join(scratch, 'image.json'), JSON.stringify({ reference: image.reference }));
      await rm(dir, { recursive: true, force: true });
      await rename(scratch, dir);
    }
    const { reference } = JSON.parse(await readFile(manifest, 'utf8')) as { reference: string };
    await importImage(join(dir, 'image.tar'));
    return reference;
  })();
  return probeImage;
}
