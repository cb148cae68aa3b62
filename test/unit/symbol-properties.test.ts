import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { PropertiesDocument, PropertiesError } from '../../symbol/properties.js';
import { saiPackageDir } from '../support/paths.js';

const resourcesDir = join(saiPackageDir, 'resources');
const nodeTemplate = readFileSync(join(resourcesDir, 'config-node.properties'), 'utf8');
// independent of the parser: in the templates every section header starts its line
const nodeSections = nodeTemplate
  .split('\n')
  .filter((line) => line.startsWith('['))
  .map((line) => line.slice(1, -1));

function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length, 'line count must not change');
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]!] as [string, string]]));
}

function rejects(reason: PropertiesError['reason'], fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => error instanceof PropertiesError && error.reason === reason);
}

void describe('catapult .properties editing', () => {
  void it('round-trips every sai template byte for byte', () => {
    const files = readdirSync(resourcesDir).filter((name) => name.endsWith('.properties'));
    assert.ok(files.length >= 16);
    for (const name of files) {
      const text = readFileSync(join(resourcesDir, name), 'utf8');
      assert.equal(PropertiesDocument.parse(text, name).toString(), text, name);
    }
  });

  void it('reads values by section and key', () => {
    const doc = PropertiesDocument.parse(nodeTemplate);
    assert.equal(doc.get('node', 'port'), '7900');
    assert.equal(doc.get('localnode', 'roles'), 'Peer');
    assert.equal(doc.get('localnode', 'version'), '');
    assert.equal(doc.get('node', 'roles'), undefined, 'keys are looked up within their own section only');
    assert.deepEqual(doc.sections(), nodeSections);
    assert.ok(nodeSections.includes('localnode'));
  });

  void it('changes only the value of the edited line and keeps comments', () => {
    const doc = PropertiesDocument.parse(nodeTemplate);
    doc.set('localnode', 'host', 'node.example.org').set('node', 'trustedHosts', '127.0.0.1');
    const out = doc.toString();
    assert.deepEqual(changedLines(nodeTemplate, out), [
      ['host = myServerHostnameOrPublicIp', 'host = node.example.org'],
    ]);
    assert.ok(out.includes('# all hosts are trusted when list is empty\n'));
  });

  void it('keeps spacing around "=" and the line ending style', () => {
    const crlf = '# c\r\n[a]\r\nkey   =   old\r\nother=1\r\n';
    const doc = PropertiesDocument.parse(crlf);
    doc.set('a', 'key', 'new').set('a', 'other', 2);
    assert.equal(doc.toString(), '# c\r\n[a]\r\nkey   =   new\r\nother=2\r\n');
  });

  void it('formats booleans and numbers as catapult writes them', () => {
    const doc = PropertiesDocument.parse('[x]\nflag = false\ncount = 1\n');
    doc.set('x', 'flag', true).set('x', 'count', 10n);
    assert.equal(doc.toString(), '[x]\nflag = true\ncount = 10\n');
  });

  void it('throws on unknown sections and keys instead of adding them', () => {
    const doc = PropertiesDocument.parse(nodeTemplate);
    rejects('UnknownKey', () => doc.set('localnode', 'hostname', 'x'));
    rejects('UnknownSection', () => doc.set('local_node', 'host', 'x'));
    assert.equal(doc.toString(), nodeTemplate);
  });

  void it('rejects values that would inject lines, sections or keys', () => {
    const doc = PropertiesDocument.parse(nodeTemplate);
    for (const value of [
      'a\n[node]\nport = 1',
      'a\rport = 1',
      'a\r\nb',
      'a\u2028b',
      'a\u0000b',
      'tab\there',
      ' leading',
      'trailing ',
    ]) {
      rejects('InvalidValue', () => doc.set('localnode', 'friendlyName', value));
    }
    rejects('InvalidValue', () => doc.set('node', 'port', Number.NaN));
    assert.equal(doc.toString(), nodeTemplate, 'a rejected value leaves the document untouched');
  });

  void it('stores "=", "#" and "[" inside a value literally', () => {
    const doc = PropertiesDocument.parse(nodeTemplate);
    const tricky = 'a=b # not a comment [section]';
    doc.set('localnode', 'friendlyName', tricky);
    const reparsed = PropertiesDocument.parse(doc.toString());
    assert.equal(reparsed.get('localnode', 'friendlyName'), tricky);
    assert.deepEqual(reparsed.sections(), nodeSections);
  });

  void it('refuses templates catapult would refuse or misread', () => {
    rejects('DuplicateKey', () => PropertiesDocument.parse('[a]\nk = 1\nk = 2\n'));
    rejects('DuplicateSection', () => PropertiesDocument.parse('[a]\n[a]\n'));
    rejects('Syntax', () => PropertiesDocument.parse('k = 1\n'));
    rejects('Syntax', () => PropertiesDocument.parse('[a]\njust words\n'));
  });

  void it('addresses sections whose names contain spaces and colons (config-network, config-task)', () => {
    const network = PropertiesDocument.parse(readFileSync(join(resourcesDir, 'config-network.properties'), 'utf8'));
    const section = 'plugin:catapult.plugins.transfer';
    const key = network.entries(section)![0]![0];
    network.set(section, key, '1KB');
    assert.equal(PropertiesDocument.parse(network.toString()).get(section, key), '1KB');
    const task = PropertiesDocument.parse(readFileSync(join(resourcesDir, 'config-task.properties'), 'utf8'));
    assert.ok(task.sections().includes('connect peers task for service Sync'));
    assert.ok(task.entries('connect peers task for service Sync')!.length > 0);
  });

  void it('adds keys to list-like sections and validates their names', () => {
    const text = readFileSync(join(resourcesDir, 'config-finalization.properties'), 'utf8');
    const doc = PropertiesDocument.parse(text);
    const section = 'treasury_reissuance_epoch_ineligible_voter_addresses';
    doc.add(section, 'TAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', true);
    assert.deepEqual(PropertiesDocument.parse(doc.toString()).entries(section), [
      ['TAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'true'],
    ]);
    rejects('DuplicateKey', () => doc.add('finalization', 'enableVoting', true));
    rejects('InvalidValue', () => doc.add(section, 'bad key', 1));
    rejects('InvalidValue', () => doc.add(section, 'k\n[x]', 1));
    rejects('UnknownSection', () => doc.add('nope', 'k', 1));
  });
});
