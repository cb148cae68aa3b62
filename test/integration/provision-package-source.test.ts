/**
 * `spec.networkPackage.url` on the real stack, with the tests' operator settings (packages only from http servers on
 * 127.0.0.1). A package served there provisions; a host the settings do not name, or a redirect from an allowed host
 * to one that is not, ends in Ready=False with reason SourceRefused and a Warning Event — the request never reaches
 * the refused location, and the message says nothing of what the server answered. Other nodes are unaffected.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { watchUntil, withNamespace } from '../support/cluster.js';
import { withOperator } from '../support/operator.js';
import { redirectTo, serveBytes, startPackageServer } from '../support/packageServer.js';
import { saiPackageZip } from '../support/paths.js';
import { GROUP, PLURAL, VERSION, type SymbolNode } from '../../k8s/symbolNode.js';
import type * as k8s from '@kubernetes/client-node';
import { conditionOf, createSymbolNode, nodeEvents, saiPeerSpec } from '../support/symbolNodes.js';

const saiZip = readFileSync(saiPackageZip);
const sha256 = createHash('sha256').update(saiZip).digest('hex');
const SECRET = 'do-not-echo-4b1d';

test('a package URL is fetched only where the settings allow, redirects included; refusals are SourceRefused', async () => {
  const server = await startPackageServer({
    '/sai.zip': serveBytes(saiZip),
    '/elsewhere': (request, response) => {
      const port = (request.socket.localPort ?? 0).toString();
      redirectTo(`http://localhost:${port}/sai.zip?${SECRET}`)(request, response);
    },
  });
  try {
    await withNamespace('pkg-source', async (namespace, kc) => {
      await withOperator({ namespace }, async () => {
        const fromUrl = (url: string) => ({ ...saiPeerSpec, network: 'custom', networkPackage: { url, sha256 } });
        const nodes = {
          allowed: `${server.origin}/sai.zip`,
          'other-host': `http://localhost:${server.port}/sai.zip`,
          redirected: `${server.origin}/elsewhere`,
        };
        for (const [name, url] of Object.entries(nodes)) await createSymbolNode(kc, namespace, name, fromUrl(url));

        const settled = new Map<string, SymbolNode>();
        await watchUntil<SymbolNode & k8s.KubernetesObject>(
          kc,
          `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
          {},
          (node) => {
            const ready = conditionOf(node, 'Ready');
            const done = ready?.status === 'True' || ready?.reason === 'SourceRefused';
            if (done) settled.set(node.metadata!.name!, node);
            return settled.size === Object.keys(nodes).length;
          },
          90_000,
        );

        assert.equal(conditionOf(settled.get('allowed')!, 'Ready')?.status, 'True', 'served from 127.0.0.1');
        const expected: Record<string, RegExp> = {
          'other-host': /^SourceRefused: http:\/\/localhost:\d+\/sai\.zip: host localhost is not in .*ALLOWED_HOSTS/,
          redirected: /^SourceRefused: http:\/\/127\.0\.0\.1:\d+\/elsewhere: it redirects to a location the operator/,
        };
        for (const [name, message] of Object.entries(expected)) {
          const ready = conditionOf(settled.get(name)!, 'Ready')!;
          assert.equal(ready.status, 'False', name);
          assert.match(ready.message, message, name);
          assert.ok(
            !ready.message.includes(SECRET) && !ready.message.includes('localhost:' + server.port + '/sai.zip?'),
          );
          const events = await nodeEvents(kc, namespace, name);
          assert.ok(
            events.some((event) => event.type === 'Warning' && event.reason === 'SourceRefused'),
            `${name}: a Warning Event; got ${JSON.stringify(events.map((e) => [e.type, e.reason]))}`,
          );
        }
        // The package was downloaded once for the allowed node (the cache), never via a refused location.
        assert.deepEqual(
          server.requests.filter((path) => path === '/sai.zip'),
          ['/sai.zip'],
          `requests: ${server.requests.join(', ')}`,
        );
      });
    });
  } finally {
    await server.close();
  }
});
