/** Shared inputs for the k8s-* unit tests (not a test file itself). */
import assert from 'node:assert/strict';
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node';
import { configHash, type BuildContext } from '../../k8s/objects/index.js';
import { API_VERSION, KIND, parseSymbolNode, type ParsedSymbolNode } from '../../k8s/symbolNode.js';

export const SERVER_IMAGE = 'symbolplatform/symbol-server:gcc-1.0.3.9';
export const REST_IMAGE = 'symbolplatform/symbol-rest:2.5.1';
export const MONGO_IMAGE = 'mongo:7.0.16';
export const OPERATOR_IMAGE = 'registry.example.org/symbol-node-operator:0.1.0';

export const API_IMAGES = { restImage: REST_IMAGE, mongoImage: MONGO_IMAGE };

/** A SymbolNode as the API server would return it. */
export function resource(
  spec: Record<string, unknown>,
  name = 'node-a',
  namespace = 'symbol',
): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace, uid: `uid-of-${name}`, generation: 3 },
    spec: { image: SERVER_IMAGE, network: 'sai', hostName: 'node-a.example.org', volumeSize: '20Gi', ...spec },
  };
}

export function parsed(spec: Record<string, unknown> = {}, name = 'node-a'): ParsedSymbolNode {
  const result = parseSymbolNode(resource(spec, name));
  if (!result.ok) assert.fail(`fixture does not parse: ${result.message}`);
  return result.node;
}

export function context(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    operatorImage: OPERATOR_IMAGE,
    configHash: configHash({ 'resources/config-node.properties': '[localnode]\nhost = x\n' }),
    seedPackage: {
      kind: 'url',
      url: 'https://example.org/sai.zip',
      checksum: { algorithm: 'sha256', hex: 'ab'.repeat(32) },
    },
    ...overrides,
  };
}

export function podSpec(sts: V1StatefulSet) {
  const spec = sts.spec?.template.spec;
  assert.ok(spec, 'StatefulSet has a pod template spec');
  return spec;
}

export function allContainers(sts: V1StatefulSet): V1Container[] {
  const spec = podSpec(sts);
  return [...(spec.initContainers ?? []), ...spec.containers];
}

export function container(sts: V1StatefulSet, name: string): V1Container {
  const c = allContainers(sts).find((x) => x.name === name);
  assert.ok(c, `container ${name} exists`);
  return c;
}

export const ROLES_FIXTURES = {
  peer: {},
  api: { role: 'api', ...API_IMAGES },
  dual: { role: 'dual', ...API_IMAGES },
} as const;
