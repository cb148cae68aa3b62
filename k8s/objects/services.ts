/** Services of a SymbolNode. */
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { isApiRole, type ParsedSymbolNode } from '../symbolNode.js';
import { childMetadata, selectorLabels } from './metadata.js';
import { objectNames } from './names.js';
import { PORTS } from './layout.js';

function ports(node: ParsedSymbolNode): V1ServicePort[] {
  const list: V1ServicePort[] = [{ name: 'peer', port: PORTS.peer, targetPort: 'peer', protocol: 'TCP' }];
  if (isApiRole(node.spec.role)) list.push({ name: 'rest', port: PORTS.rest, targetPort: 'rest', protocol: 'TCP' });
  return list;
}

/** `<name>`: a ClusterIP Service for clients in the cluster: peer 7900, and REST 3000 for API roles. */
export function buildService(node: ParsedSymbolNode): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(node, objectNames(node.metadata.name).service, 'service'),
    spec: { type: 'ClusterIP', selector: selectorLabels(node), ports: ports(node) },
  };
}

/**
 * `<name>-headless`: the StatefulSet's governing Service (`serviceName`), giving the pod the stable DNS name
 * `<name>-0.<name>-headless.<namespace>.svc`. It publishes the address before the pod is ready, so the name
 * resolves while catapult starts.
 */
export function buildHeadlessService(node: ParsedSymbolNode): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(node, objectNames(node.metadata.name).headlessService, 'service'),
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: selectorLabels(node), ports: ports(node) },
  };
}
