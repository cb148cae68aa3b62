/**
 * The configuration files of the real node: containerd's, the CNI network's and the kubelet's.
 * Every path points into the stack's state directory, so the node shares nothing with the host
 * (no /var/lib/containerd, /etc/cni, /var/lib/kubelet, /var/log/pods) and `stack down` removes it all.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { binaries, endpoints, paths } from '../versions.js';

const node = paths.realNode;

/** The pod network: one bridge on the host, whose address is the pods' gateway. */
export const podNetwork = {
  name: 'symbol-real-node',
  bridge: 'sno-br0',
  subnet: '10.244.0.0/24',
  gateway: '10.244.0.1',
};

/**
 * containerd watches the CNI directory and reloads on every write: replace a file in one step, and
 * only when its content changes (a repeated `stack up` then touches nothing).
 */
async function writeConfigFile(file: string, content: string): Promise<boolean> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === content) return false;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, content);
  await rename(`${file}.tmp`, file);
  return true;
}

const toml = (value: string | string[]): string =>
  Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value);

/**
 * containerd 2.4 (config version 4): its own root, state and sockets; CRI with runc and our CNI.
 * Resolves true when the file changed (a running containerd must restart to read it).
 */
export async function writeContainerdConfig(sandboxImage: string): Promise<boolean> {
  const cri = "plugins.'io.containerd.cri.v1.runtime'";
  const runc = `${cri}.containerd.runtimes.runc`;
  const config = `version = 4
root = ${toml(node.containerdRoot)}
state = ${toml(node.containerdState)}

[plugins.'io.containerd.server.v1.grpc']
  address = ${toml(node.containerdSocket)}

[plugins.'io.containerd.server.v1.ttrpc']
  address = ${toml(`${node.containerdSocket}.ttrpc`)}

# Both default to host-wide locations (/opt/containerd, /var/run/nri).
[plugins.'io.containerd.internal.v1.opt']
  path = ${toml(join(node.dir, 'containerd', 'opt'))}

[plugins.'io.containerd.nri.v1.nri']
  disable = true

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'

  # Built here and imported: no registry can serve it, so it must never be pulled or collected.
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${toml(sandboxImage)}

[${cri}]
  # Network namespaces are bind-mounted under the state dir instead of /var/run/netns.
  netns_mounts_under_state_dir = true
  # Never below containerd's own: the kubelet asks -998 for sandboxes, which needs CAP_SYS_RESOURCE,
  # and sandboxed development machines (this one included) may not grant it.
  restrict_oom_score_adj = true
  cdi_spec_dirs = ${toml([join(node.dir, 'cdi')])}

  [${cri}.containerd]
    default_runtime_name = 'runc'

    [${runc}]
      runtime_type = 'io.containerd.runc.v2'

      [${runc}.options]
        BinaryName = ${toml(binaries.runc)}
        Root = ${toml(node.runcRoot)}
        SystemdCgroup = false

  [${cri}.cni]
    bin_dirs = ${toml([binaries.cniBinDir])}
    conf_dir = ${toml(node.cniConfDir)}
    max_conf_num = 1

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'
`;
  return writeConfigFile(node.containerdConfig, config);
}

/**
 * bridge + host-local + portmap (loopback is set up by containerd with the loopback plugin). The
 * bridge is the pods' gateway, so the host reaches every pod IP directly. No masquerading: pods only
 * talk to the host and each other (and this machine has no iptables for it). portmap only acts on
 * hostPort, which would need iptables too.
 */
export async function writeCniConfig(): Promise<boolean> {
  const conflist = {
    cniVersion: '1.0.0',
    name: podNetwork.name,
    plugins: [
      {
        type: 'bridge',
        bridge: podNetwork.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podNetwork.subnet, gateway: podNetwork.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: node.cniIpamDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return writeConfigFile(join(node.cniConfDir, '10-symbol-real-node.conflist'), JSON.stringify(conflist, null, 2));
}

/**
 * The kubelet of a development stack on a cgroup v1 host:
 * - it authenticates callers by client certificate against the cluster's CA (kube-apiserver presents
 *   the admin certificate, see cluster.ts) and asks kube-apiserver to authorize them; no anonymous
 *   access, since the kubelet API can exec into containers as root;
 * - image garbage collection and disk-pressure eviction are off: images are imported, not pulled,
 *   so an image the kubelet deleted could never come back.
 */
export async function writeKubeletConfig(options: { clientCaFile: string; taint: k8s.V1Taint }): Promise<boolean> {
  const containerdEndpoint = `unix://${node.containerdSocket}`;
  const configuration = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: containerdEndpoint,
    imageServiceEndpoint: containerdEndpoint,
    port: endpoints.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: endpoints.kubeletHealthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: options.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    registerWithTaints: [options.taint],
    podLogsDir: node.podLogsDir,
    volumePluginDir: node.volumePluginDir,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '0%',
      'nodefs.inodesFree': '0%',
      'imagefs.available': '0%',
      'imagefs.inodesFree': '0%',
    },
    // The cluster notices a lost node after 20 s (cluster.ts); report well within that.
    nodeStatusUpdateFrequency: '5s',
    nodeLeaseDurationSeconds: 10,
    serializeImagePulls: false,
    // No cluster DNS in the stack: pods get the host's resolv.conf.
    resolvConf: '/etc/resolv.conf',
  };
  return writeConfigFile(node.kubeletConfig, k8s.dumpYaml(configuration));
}
