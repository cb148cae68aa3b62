/**
 * The CRD (k8s/manifests/crd/symbolnodes.yaml) and the zod schema (k8s/symbolNode.ts) must describe the same
 * spec: same fields, required fields, enums, defaults, patterns and lengths. Both are walked independently.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dumpYaml, loadYaml, type V1CustomResourceDefinition, type V1JSONSchemaProps } from '@kubernetes/client-node';
import { z } from 'zod';

import { CONDITION_REASON_PATTERN, CONDITION_TYPE_PATTERN, CONDITION_TYPES, PHASES } from '../../k8s/conditions.js';
import {
  CATEGORIES,
  CRD_NAME,
  FRIENDLY_NAME_MAX_LENGTH,
  GROUP,
  HOST_NAME_MAX_LENGTH,
  KIND,
  LIST_KIND,
  NETWORKS,
  PATTERNS,
  PLURAL,
  RESOURCE_NAMES,
  SHORT_NAMES,
  SINGULAR,
  SymbolNodeSpecSchema,
  VERSION,
} from '../../k8s/symbolNode.js';
import { repoRoot } from '../support/paths.js';

const crdText = readFileSync(join(repoRoot, 'k8s/manifests/crd/symbolnodes.yaml'), 'utf8');
const crd = loadYaml<V1CustomResourceDefinition>(crdText);
const version = crd.spec.versions.find((v) => v.name === VERSION);
const root = version?.schema?.openAPIV3Schema;

/** The client library maps `enum`/`default`/`x-kubernetes-*` to other names in typed objects, except inside
 *  `additionalProperties`/`items`, which stay raw. Read both spellings. */
interface Node {
  type?: string;
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  items?: Node;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  maxLength?: number;
  anyOf?: Node[];
  intOrString?: boolean;
  validations?: Array<{ rule: string; message?: string }>;
}

function normalise(raw: unknown): Node {
  const s = raw as V1JSONSchemaProps & Record<string, unknown>;
  const props = s.properties as Record<string, unknown> | undefined;
  const additional = s.additionalProperties as unknown;
  const items = s.items as unknown;
  return {
    type: s.type,
    properties: props && Object.fromEntries(Object.entries(props).map(([k, v]) => [k, normalise(v)])),
    additionalProperties:
      typeof additional === 'object' && additional !== null
        ? normalise(additional)
        : (additional as boolean | undefined),
    items: typeof items === 'object' && items !== null ? normalise(items) : undefined,
    required: s.required,
    enum: s._enum ?? (s.enum as unknown[] | undefined),
    default: s._default ?? s.default,
    pattern: s.pattern,
    maxLength: s.maxLength,
    anyOf: s.anyOf?.map(normalise),
    intOrString: s.x_kubernetes_int_or_string ?? (s['x-kubernetes-int-or-string'] as boolean | undefined),
    validations: s.x_kubernetes_validations ?? (s['x-kubernetes-validations'] as Node['validations']),
  };
}

const crdSpec = normalise(root?.properties?.spec);
const crdStatus = normalise(root?.properties?.status);
const zodSpec = normalise(z.toJSONSchema(SymbolNodeSpecSchema, { io: 'input', unrepresentable: 'any' }));

/** JavaScript reads both spellings the same way once compiled (`/` may be escaped or not). */
const samePattern = (a: string, b: string) => new RegExp(a, 'u').source === new RegExp(b, 'u').source;

function compare(path: string, c: Node, zz: Node, problems: string[]): void {
  const zodTypes = zz.anyOf ? zz.anyOf.map((x) => x.type).sort() : [zz.type];
  if (c.intOrString) {
    if (JSON.stringify(zodTypes) !== JSON.stringify(['integer', 'string']))
      problems.push(`${path}: zod is not int-or-string`);
    const zodString = zz.anyOf?.find((x) => x.type === 'string');
    if (c.pattern === undefined || zodString?.pattern === undefined || !samePattern(c.pattern, zodString.pattern)) {
      problems.push(`${path}: int-or-string patterns differ`);
    }
    return;
  }
  if (c.type !== zz.type) problems.push(`${path}: type ${c.type} (CRD) vs ${zz.type} (zod)`);
  if (JSON.stringify(c.enum ?? null) !== JSON.stringify(zz.enum ?? null)) {
    problems.push(`${path}: enum ${JSON.stringify(c.enum)} (CRD) vs ${JSON.stringify(zz.enum)} (zod)`);
  }
  if (JSON.stringify(c.default ?? null) !== JSON.stringify(zz.default ?? null)) {
    problems.push(`${path}: default ${JSON.stringify(c.default)} (CRD) vs ${JSON.stringify(zz.default)} (zod)`);
  }
  if (zz.pattern !== undefined && (c.pattern === undefined || !samePattern(c.pattern, zz.pattern))) {
    problems.push(`${path}: pattern differs`);
  }
  if (zz.maxLength !== undefined && c.maxLength !== zz.maxLength) {
    problems.push(`${path}: maxLength ${c.maxLength} (CRD) vs ${zz.maxLength} (zod)`);
  }
  if (c.type === 'object') {
    const cKeys = Object.keys(c.properties ?? {}).sort();
    const zKeys = Object.keys(zz.properties ?? {}).sort();
    if (JSON.stringify(cKeys) !== JSON.stringify(zKeys)) {
      problems.push(`${path}: fields ${JSON.stringify(cKeys)} (CRD) vs ${JSON.stringify(zKeys)} (zod)`);
    }
    const cReq = [...(c.required ?? [])].sort();
    const zReq = [...(zz.required ?? [])].sort();
    if (JSON.stringify(cReq) !== JSON.stringify(zReq)) {
      problems.push(`${path}: required ${JSON.stringify(cReq)} (CRD) vs ${JSON.stringify(zReq)} (zod)`);
    }
    for (const key of cKeys) {
      const zChild = zz.properties?.[key];
      if (zChild) compare(`${path}.${key}`, c.properties![key]!, zChild, problems);
    }
  }
  if (c.type === 'array') {
    if (c.items === undefined || zz.items === undefined) problems.push(`${path}: items missing on one side`);
    else compare(`${path}[]`, c.items, zz.items, problems);
  }
  if (c.type === 'object') {
    const cAdd = c.additionalProperties;
    const zAdd = zz.additionalProperties;
    if (typeof cAdd === 'object') {
      if (typeof zAdd !== 'object') problems.push(`${path}: CRD is a map, zod is not`);
      else compare(`${path}[*]`, cAdd, zAdd, problems);
    }
  }
}

void describe('SymbolNode CRD', () => {
  void it('declares the API identity the code uses', () => {
    assert.equal(crd.metadata?.name, CRD_NAME);
    assert.equal(crd.spec.group, GROUP);
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.names.kind, KIND);
    assert.equal(crd.spec.names.listKind, LIST_KIND);
    assert.equal(crd.spec.names.plural, PLURAL);
    assert.equal(crd.spec.names.singular, SINGULAR);
    assert.deepEqual(crd.spec.names.shortNames, [...SHORT_NAMES]);
    assert.deepEqual(crd.spec.names.categories, [...CATEGORIES]);
    assert.equal(crd.spec.versions.length, 1);
    assert.ok(version?.served && version.storage);
    assert.deepEqual(version?.subresources?.status, {});
  });

  void it('has the printer columns kubectl shows', () => {
    const columns = Object.fromEntries((version?.additionalPrinterColumns ?? []).map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(columns), ['Network', 'Role', 'Ready', 'Phase', 'Height', 'Image', 'Age']);
    assert.equal(columns.Ready?.jsonPath, '.status.conditions[?(@.type=="Ready")].status');
    assert.equal(columns.Height?.type, 'integer');
    assert.equal(columns.Age?.type, 'date');
  });

  void it('has no replicas: a Symbol node is a singleton', () => {
    assert.equal(crdSpec.properties?.replicas, undefined);
    assert.ok(!/replicas/.test(JSON.stringify(root?.properties?.spec)));
  });

  void it('agrees with the zod schema on fields, required fields, enums, defaults, patterns and lengths', () => {
    const problems: string[] = [];
    compare('spec', crdSpec, zodSpec, problems);
    assert.deepEqual(problems, []);
  });

  void it('uses the shared patterns and limits where zod checks in code', () => {
    const p = crdSpec.properties!;
    for (const list of ['p2p', 'api']) {
      const peer = p.peers?.properties?.[list]?.items?.properties;
      assert.equal(peer?.host?.pattern, PATTERNS.hostName, `peers.${list}[].host`);
      assert.equal(peer?.host?.maxLength, HOST_NAME_MAX_LENGTH);
      assert.ok((peer?.host?.validations ?? []).some((v) => v.rule.includes('isIP(self)')));
    }
    assert.equal(p.hostName?.pattern, PATTERNS.hostName);
    assert.equal(p.hostName?.maxLength, HOST_NAME_MAX_LENGTH);
    assert.equal(p.friendlyName?.pattern, PATTERNS.friendlyName);
    assert.equal(p.friendlyName?.maxLength, FRIENDLY_NAME_MAX_LENGTH);
    assert.equal(p.volumeSize?.pattern, PATTERNS.volumeSize);
    assert.equal(p.image?.pattern, PATTERNS.image);
  });

  void it('declares the status the operator writes', () => {
    const s = crdStatus.properties!;
    assert.deepEqual(s.phase?.enum, [...PHASES]);
    assert.deepEqual(s.network?.enum, [...NETWORKS]);
    const condition = normalise((root?.properties?.status?.properties?.conditions as V1JSONSchemaProps).items);
    assert.deepEqual([...(condition.required ?? [])].sort(), [
      'lastTransitionTime',
      'message',
      'reason',
      'status',
      'type',
    ]);
    assert.equal(condition.properties?.reason?.pattern, CONDITION_REASON_PATTERN);
    assert.equal(condition.properties?.type?.pattern, CONDITION_TYPE_PATTERN);
    for (const field of [
      'observedGeneration',
      'nodePublicKey',
      'mainPublicKey',
      'address',
      'image',
      'network',
      'height',
      'lastHeightCheck',
    ]) {
      assert.ok(s[field], `status.${field}`);
    }
    assert.ok(!Object.keys(s).some((k) => /private/i.test(k)), 'status holds public data only');
    assert.ok(CONDITION_TYPES.every((t) => /Ready|Provisioned|Progressing|Degraded/.test(t)));
  });

  void it('guards immutable and grow-only fields with CEL rules', () => {
    const rules = (n: Node | undefined) => (n?.validations ?? []).map((v) => v.rule);
    const p = crdSpec.properties!;
    assert.ok(rules(p.network).includes('self == oldSelf'));
    assert.ok(
      rules(p.volumeSize).some((r) => r.includes('oldSelf') && r.includes('quantity(') && r.includes('compareTo')),
    );
    assert.ok(rules(p.hostName).some((r) => r.includes('isIP(self)')));
    const specRules = rules(crdSpec);
    assert.ok(specRules.some((r) => r.includes("self.network != 'custom'") && r.includes('networkPackage')));
    assert.ok(specRules.some((r) => r.includes('identitySecretRef') && r.includes('oldSelf')));
    const rootRules = rules(normalise(root));
    assert.ok(rootRules.some((r) => r.includes('self.metadata.name.size() <= 52')));
  });

  void it("gives the fields copied into pods the API server's pod rules, with the shared patterns", () => {
    const p = crdSpec.properties!;
    const rules = (n: Node | undefined) => (n?.validations ?? []).map((v) => v.rule).join('\n');
    const qualified = (r: string) =>
      r.includes(`r'${PATTERNS.qualifiedName}'`) && r.includes(PATTERNS.qualifiedNameLongPrefix);
    assert.ok(qualified(rules(p.podAnnotations)) && rules(p.podAnnotations).includes('lowerAscii()'));
    assert.ok(qualified(rules(p.nodeSelector)));
    assert.equal((p.nodeSelector?.additionalProperties as Node).pattern, PATTERNS.labelValue);
    const toleration = p.tolerations?.items;
    assert.ok(qualified(rules(toleration)));
    for (const fragment of ["self.operator == 'Exists'", "self.effect == 'NoExecute'", "self.value == ''"]) {
      assert.ok(rules(toleration).includes(fragment), fragment);
    }
    assert.equal(toleration?.properties?.value?.pattern, PATTERNS.labelValue);
    for (const list of ['requests', 'limits']) {
      const r = rules(p.resources?.properties?.[list]);
      assert.ok(r.includes(`[${RESOURCE_NAMES.map((n) => `'${n}'`).join(', ')}]`), `${list}: resource names`);
      assert.ok(r.includes("compareTo(quantity('0')) >= 0"), `${list}: no negative quantity`);
    }
  });

  void it('keeps every field and rule through the client library (k8s/install.ts applies it that way)', () => {
    const reloaded = loadYaml<V1CustomResourceDefinition>(dumpYaml(crd));
    assert.deepEqual(reloaded, crd);
    const count = (text: string, what: RegExp) => (text.match(what) ?? []).length;
    const dumped = dumpYaml(crd);
    assert.equal(count(dumped, /rule: /g), count(crdText, /- rule: /g));
    assert.equal(
      count(dumped, /x-kubernetes-int-or-string: true/g),
      count(crdText, /x-kubernetes-int-or-string: true/g),
    );
    assert.equal(count(dumped, /default: /g), count(crdText, /default: /g));
  });

  void it('uses patterns that compile in JavaScript and Go alike (no \\s, \\w, look-arounds, \\u escapes)', () => {
    for (const [name, pattern] of Object.entries(PATTERNS)) {
      assert.doesNotThrow(() => new RegExp(pattern, 'u'), name);
      assert.ok(!/\\[sSwWdDu]|\(\?[=!<]/.test(pattern), `${name} uses syntax Go and JavaScript read differently`);
    }
  });
});
