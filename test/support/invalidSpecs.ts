/**
 * Generated invalid SymbolNodes (fast-check), each with the verdict it must get. The oracle is the generator
 * itself: every case starts from a valid node, breaks one field in a way a Kubernetes or Symbol rule forbids, and
 * says where the refusal belongs — the API server's admission (422 naming the field: what the CRD can express), or
 * the operator (Ready=False with a precise reason: what only the operator can see, e.g. a Secret that does not
 * exist, or a size it alone can add up). The verdicts are written from the rules (k8s.io pod validation, the
 * CRD's documented contract), not read from the code under test.
 */
import fc from 'fast-check';

export type Verdict =
  /** 422 at create; `field` is the path the API server names (a prefix is enough: map keys are printed variously). */
  | { at: 'admission'; field: string }
  /** Accepted, then Ready=False / Degraded=True with `reason` and a Warning Event with it; the message `says` this. */
  | { at: 'operator'; reason: string; says: string };

export interface InvalidCase {
  /** What the generator broke, for the test's log. */
  kind: string;
  /** The SymbolNode's name when the name is what is broken; otherwise the test names it. */
  name?: string;
  spec: Record<string, unknown>;
  verdict: Verdict;
}

const SERVER = 'symbolplatform/symbol-server:gcc-1.0.3.9';
const API_IMAGES = { restImage: 'symbolplatform/symbol-rest:2.5.1', mongoImage: 'mongo:7.0.16' };
const KEY = 'C807BE28855D0C87A8A2C032E51790CCB9158C15CBACB8B222E27DFFFEB3697D';

/** Valid nodes with some optional fields set, so that a broken field is never the only thing present. */
const validBase: fc.Arbitrary<Record<string, unknown>> = fc.record({
  network: fc.constant('sai' as const),
  role: fc.constant('peer' as const),
  image: fc.constant(SERVER),
  hostName: fc.constantFrom('peer.example.org', '192.0.2.10', '2001:db8::7'),
  friendlyName: fc.constantFrom('generated peer', 'ノード 1', 'p'),
  volumeSize: fc.constantFrom('10Gi', '1Gi', 21474836480),
  dataRetentionPolicy: fc.constant('Delete' as const),
  podAnnotations: fc.constantFrom({}, { 'prometheus.io/scrape': 'true', 'Example.COM/Note': 'x y' }),
  tolerations: fc.constantFrom(
    [],
    [{ key: 'dedicated', operator: 'Equal' as const, value: 'symbol', effect: 'NoSchedule' as const }],
  ),
});

const lower = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));
const dnsLabel = (min: number, max: number) =>
  fc.array(lower, { minLength: min, maxLength: max }).map((cs) => 'g' + cs.join('').replace(/^-|-$/g, '') + 'z');
/** Characters no DNS name may contain; keys and label values allow '_' (and keys one '/'), so they get fewer. */
const badDnsChar = fc.constantFrom(' ', '_', '!', '"', '\n', '\t', '@', 'é', '/', ':', '*');
const badKeyChar = fc.constantFrom(' ', '!', '"', '\n', '\t', '@', 'é', ':', '*', ',');
const badValueChar = fc.oneof(badKeyChar, fc.constant('/'));
const insert = (s: string, c: string) => `${s.slice(0, 2)}${c}${s.slice(2)}`;
const withBadChar = (s: string) => badDnsChar.map((c) => insert(s, c));
const withBadKeyChar = (s: string) => badKeyChar.map((c) => insert(s, c));
const withBadValueChar = (s: string) => badValueChar.map((c) => insert(s, c));

type Mutation = fc.Arbitrary<Omit<InvalidCase, 'spec'> & { patch: (spec: Record<string, unknown>) => void }>;
const admission = (field: string): Verdict => ({ at: 'admission', field });
const set =
  (key: string, value: unknown) =>
  (spec: Record<string, unknown>): void => {
    spec[key] = value;
  };

/** One arbitrary per field (or rule); every one is sampled, so every field is covered in every run. */
export const mutations: Record<string, Mutation> = {
  nameTooLong: fc.integer({ min: 53, max: 253 }).chain((n) =>
    dnsLabel(n - 2, n - 2).map((name) => ({
      kind: `metadata.name of ${name.length} characters`,
      name,
      verdict: admission('metadata.name'),
      patch: () => undefined,
    })),
  ),
  nameHeadless: dnsLabel(1, 20).map((base) => ({
    kind: 'metadata.name ending in -headless',
    name: `${base}-headless`,
    verdict: admission('metadata.name'),
    patch: () => undefined,
  })),
  nameNotDns1035: fc.constantFrom('9lives', 'Upper', 'a_b', 'a.b', '-a').map((name) => ({
    kind: `metadata.name ${name}`,
    name,
    verdict: admission('metadata.name'),
    patch: () => undefined,
  })),
  network: fc
    .string({ maxLength: 12 })
    .filter((s) => !['mainnet', 'sai', 'custom'].includes(s))
    .map((v) => ({ kind: 'unknown network', verdict: admission('spec.network'), patch: set('network', v) })),
  image: fc
    .constantFrom('symbolplatform/symbol-server', 'Symbol/Server:1', 'server:', 'a b:1', 'server@sha256:abc', ':1')
    .map((v) => ({ kind: `image ${JSON.stringify(v)}`, verdict: admission('spec.image'), patch: set('image', v) })),
  hostName: fc
    .oneof(
      dnsLabel(3, 20).chain(withBadChar),
      dnsLabel(64, 80),
      fc.constantFrom('a..b', '-a.org', '10.0.0.256', '1.2.3', 'a:b', 'x'.repeat(254)),
    )
    .map((v) => ({
      kind: `hostName ${JSON.stringify(v).slice(0, 40)}`,
      verdict: admission('spec.hostName'),
      patch: set('hostName', v),
    })),
  friendlyName: fc
    .oneof(
      fc.constantFrom(' lead', 'trail ', 'two\nlines', 'nul\u0000', 'del\u007f'),
      fc.string({ minLength: 64, maxLength: 90 }).map((s) => 'x' + s.replace(/[\p{Cc}\p{Z}]/gu, 'y') + 'x'),
    )
    .map((v) => ({
      kind: 'friendlyName not one printable line of at most 63',
      verdict: admission('spec.friendlyName'),
      patch: set('friendlyName', v),
    })),
  volumeSize: fc
    .oneof(
      fc.integer({ min: 1, max: 1023 }).map((n) => `${n}Mi`),
      fc.constantFrom('10Zi', '-5Gi', '1e9', '10 Gi', 'ten', '0.5Gi', 1000),
    )
    .map((v) => ({
      kind: `volumeSize ${JSON.stringify(v)}`,
      verdict: admission('spec.volumeSize'),
      patch: set('volumeSize', v),
    })),
  storageClassName: dnsLabel(3, 10)
    .chain(withBadChar)
    .map((v) => ({
      kind: 'storageClassName not a DNS subdomain',
      verdict: admission('spec.storageClassName'),
      patch: set('storageClassName', v),
    })),
  resourceName: fc
    .constantFrom('nvidia.com/gpu', 'hugepages-2Mi', 'pods', 'storage', 'kubernetes.io/foo', 'cpu ')
    .map((name) => ({
      kind: `resources.requests[${name}]`,
      verdict: admission('spec.resources.requests'),
      patch: set('resources', { requests: { [name]: '1' }, limits: { [name]: '1' } }),
    })),
  resourceQuantity: fc
    .constantFrom<[string, string, unknown]>(
      ['requests', 'cpu', '-1'],
      ['limits', 'memory', '-1Gi'],
      ['requests', 'memory', 'lots'],
      ['limits', 'cpu', '1 m'],
      ['requests', 'cpu', -2],
    )
    .map(([list, name, value]) => ({
      kind: `resources.${list}.${name} ${JSON.stringify(value)}`,
      verdict: admission(`spec.resources.${list}`),
      patch: set('resources', { [list]: { [name]: value } }),
    })),
  requestOverLimit: fc.integer({ min: 2, max: 64 }).map((n) => ({
    kind: 'request over limit',
    verdict: admission('spec.resources'),
    patch: set('resources', { requests: { memory: `${n}Gi` }, limits: { memory: '1Gi' } }),
  })),
  roleImages: fc.constantFrom('api', 'dual').map((role) => ({
    kind: `role ${role} without restImage`,
    verdict: admission('spec'),
    patch: (s: Record<string, unknown>) => Object.assign(s, { role, mongoImage: API_IMAGES.mongoImage }),
  })),
  apiHarvester: fc.constantFrom('harvester', 'voter').map((field) => ({
    kind: `role api with ${field}`,
    verdict: admission('spec'),
    patch: (s: Record<string, unknown>) => Object.assign(s, { role: 'api', [field]: true }, API_IMAGES),
  })),
  apiImage: fc.constantFrom('restImage', 'mongoImage').map((field) => ({
    kind: `${field} without a tag`,
    verdict: admission(`spec.${field}`),
    patch: (s: Record<string, unknown>) => Object.assign(s, { role: 'dual' }, API_IMAGES, { [field]: 'mongo' }),
  })),
  identityRefName: dnsLabel(3, 10)
    .chain(withBadChar)
    .map((v) => ({
      kind: 'identitySecretRef.name not a DNS subdomain',
      verdict: admission('spec.identitySecretRef.name'),
      patch: set('identitySecretRef', { name: v }),
    })),
  identityRefMissing: dnsLabel(3, 10).map((v) => ({
    kind: 'identitySecretRef names a Secret that does not exist',
    verdict: { at: 'operator', reason: 'IdentitySecretNotFound', says: `absent-${v}` } satisfies Verdict,
    patch: set('identitySecretRef', { name: `absent-${v}` }),
  })),
  enumFields: fc
    .constantFrom(['dataRetentionPolicy', 'Keep'], ['role', 'validator'], ['dataRetentionPolicy', 'delete'])
    .map(([k, v]) => ({ kind: `${k} ${v}`, verdict: admission(`spec.${k}`), patch: set(k, v) })),
  booleans: fc
    .constantFrom('harvester', 'voter', 'hostPort', 'paused')
    .chain((k) =>
      fc
        .constantFrom('yes', 1, 'true')
        .map((v) => ({ kind: `${k} not a boolean`, verdict: admission(`spec.${k}`), patch: set(k, v) })),
    ),
  wrongType: fc
    .constantFrom<[string, unknown]>(
      ['tolerations', {}],
      ['podAnnotations', []],
      ['nodeSelector', 'zone=a'],
      ['peers', 'x'],
      ['resources', 5],
      ['networkPackage', 'https://x'],
    )
    .map(([k, v]) => ({ kind: `${k} of the wrong type`, verdict: admission(`spec.${k}`), patch: set(k, v) })),
  annotationKey: fc
    .oneof(
      dnsLabel(3, 10).chain(withBadKeyChar),
      dnsLabel(64, 70),
      dnsLabel(254, 260).map((p) => `${p}/name`),
      fc.constantFrom('a/b/c', '', '/x', 'example.com/', '-x'),
    )
    .map((key) => ({
      kind: `podAnnotations key ${JSON.stringify(key).slice(0, 40)}`,
      verdict: admission('spec.podAnnotations'),
      patch: set('podAnnotations', { [key]: 'v' }),
    })),
  annotationsTooLarge: fc.integer({ min: 2, max: 3 }).chain((parts) =>
    fc.integer({ min: 256 * 1024 - 1024 + 1, max: 300 * 1024 }).map((total) => ({
      kind: `podAnnotations of ${total} bytes in ${parts} values`,
      verdict: { at: 'operator', reason: 'InvalidPodAnnotations', says: 'spec.podAnnotations' } satisfies Verdict,
      patch: set(
        'podAnnotations',
        Object.fromEntries(
          Array.from({ length: parts }, (_, i) => [`example.com/blob-${i}`, 'b'.repeat(Math.ceil(total / parts))]),
        ),
      ),
    })),
  ),
  nodeSelectorValue: fc
    .oneof(dnsLabel(64, 80), dnsLabel(3, 10).chain(withBadValueChar), fc.constantFrom('-a', 'a-', '.x'))
    .map((v) => ({
      kind: `nodeSelector value ${JSON.stringify(v).slice(0, 40)}`,
      verdict: admission('spec.nodeSelector'),
      patch: set('nodeSelector', { 'topology.kubernetes.io/zone': v }),
    })),
  nodeSelectorKey: fc
    .oneof(dnsLabel(64, 70), dnsLabel(3, 10).chain(withBadKeyChar), fc.constantFrom('a/b/c', 'Example.com/zone'))
    .map((k) => ({
      kind: `nodeSelector key ${JSON.stringify(k).slice(0, 40)}`,
      verdict: admission('spec.nodeSelector'),
      patch: set('nodeSelector', { [k]: 'a' }),
    })),
  toleration: fc
    .constantFrom<[string, Record<string, unknown>]>(
      ['Exists with a value', { key: 'k', operator: 'Exists', value: 'v' }],
      ['empty key with Equal', { operator: 'Equal', value: 'v' }],
      ['no key, no operator', { effect: 'NoSchedule' }],
      [
        'tolerationSeconds without NoExecute',
        { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 },
      ],
      ['tolerationSeconds without effect', { key: 'k', operator: 'Exists', tolerationSeconds: 30 }],
      ['unknown operator', { key: 'k', operator: 'In' }],
      ['unknown effect', { key: 'k', operator: 'Exists', effect: 'NoRun' }],
      ['key with a space', { key: 'a b', operator: 'Exists' }],
      ['value of 64 characters', { key: 'k', operator: 'Equal', value: 'v'.repeat(64) }],
      ['value with a slash', { key: 'k', value: 'a/b' }],
    )
    .chain(([what, t]) => fc.integer({ min: 0, max: 2 }).map((index) => ({ what, t, index })))
    .map(({ what, t, index }) => ({
      kind: `tolerations[${index}]: ${what}`,
      verdict: admission(`spec.tolerations`),
      patch: set('tolerations', [...Array.from({ length: index }, () => ({ key: 'ok', operator: 'Exists' })), t]),
    })),
  peer: fc
    .constantFrom<[string, Record<string, unknown>]>(
      ['publicKey of 63 digits', { publicKey: KEY.slice(1), host: 'a.example.org' }],
      ['publicKey not hex', { publicKey: 'Z' + KEY.slice(1), host: 'a.example.org' }],
      ['host with a space', { publicKey: KEY, host: 'a b.org' }],
      ['port 0', { publicKey: KEY, host: 'a.example.org', port: 0 }],
      ['port 65536', { publicKey: KEY, host: 'a.example.org', port: 65536 }],
      ['unknown role', { publicKey: KEY, host: 'a.example.org', roles: 'Peer,Harvester' }],
      ['name of 64 characters', { publicKey: KEY, host: 'a.example.org', name: 'n'.repeat(64) }],
      ['no host', { publicKey: KEY }],
    )
    .map(([what, p]) => ({
      kind: `peers.p2p[0]: ${what}`,
      verdict: admission('spec.peers.p2p'),
      patch: set('peers', { p2p: [p] }),
    })),
  peersTooMany: fc.integer({ min: 65, max: 80 }).map((n) => ({
    kind: `${n} p2p peers`,
    verdict: admission('spec.peers.p2p'),
    patch: set('peers', { p2p: Array.from({ length: n }, (_, i) => ({ publicKey: KEY, host: `p${i}.example.org` })) }),
  })),
  peersApiForPeer: fc.constant({
    kind: 'peers.api on role peer',
    verdict: admission('spec.peers.api'),
    patch: set('peers', { api: [{ publicKey: KEY, host: 'a.example.org' }] }),
  }),
  networkPackage: fc
    .constantFrom<[string, Record<string, unknown>]>(
      [
        'url and configMapRef',
        { url: 'https://example.org/p.zip', sha256: 'a'.repeat(64), configMapRef: { name: 'pkg' } },
      ],
      ['url without sha256', { url: 'https://example.org/p.zip' }],
      ['upper-case sha256', { url: 'https://example.org/p.zip', sha256: 'A'.repeat(64) }],
      ['url with a space', { url: 'https://example.org/a b.zip', sha256: 'a'.repeat(64) }],
      ['ftp url', { url: 'ftp://example.org/p.zip', sha256: 'a'.repeat(64) }],
      ['configMapRef name with a capital', { configMapRef: { name: 'Pkg' } }],
      ['neither url nor configMapRef', {}],
    )
    .map(([what, p]) => ({
      kind: `networkPackage: ${what}`,
      verdict: admission('spec.networkPackage'),
      patch: set('networkPackage', p),
    })),
  customWithoutPackage: fc.constant({
    kind: 'network custom without networkPackage',
    verdict: admission('spec.networkPackage'),
    patch: set('network', 'custom'),
  }),
};

/** `runsPerKind` cases of every kind, reproducible from `seed`. */
export function sampleInvalidCases(seed: number, runsPerKind: number): InvalidCase[] {
  const out: InvalidCase[] = [];
  Object.entries(mutations).forEach(([, mutation], k) => {
    const cases = fc.sample(fc.tuple(validBase, mutation), { seed: seed + k, numRuns: runsPerKind });
    for (const [base, { patch, ...rest }] of cases) {
      const spec: Record<string, unknown> = structuredClone(base);
      patch(spec);
      out.push({ ...rest, spec });
    }
  });
  return out;
}

/** The valid bases alone: the oracle's own check that a case is invalid because of its one broken field. */
export function sampleValidSpecs(seed: number, runs: number): Array<Record<string, unknown>> {
  return fc.sample(validBase, { seed, numRuns: runs });
}
