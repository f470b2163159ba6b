// Unit tests of the JavaScript SDK's (plugins/js-sdk) outbound helpers, in
// node, with the host API faked (fake-host-hooks.mjs). `make sdk-test` runs
// them; outbound.test.mjs tests components built with the SDK.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { beforeEach, test } from 'node:test';

register('./fake-host-hooks.mjs', import.meta.url);
const sdk = await import('../../plugins/js-sdk/inbound_sdk.js');

const text = (bytes) => new TextDecoder().decode(bytes);
const change = { kind: 'accepted', by: 'ada', text: undefined, at: 1n, marker: 'inbound-42-17' };
const incident = { id: 42n, key: 'T-1', status: 'accepted' };

beforeEach(() => {
  globalThis.fakeHost = { incidents: {}, state: {}, log: { log() {} } };
});

test('markers are recognised inside text', () => {
  assert.ok(sdk.carriesMarker('Accepted in inbound by ada [inbound-42-17]'));
  assert.ok(sdk.carriesMarker('inbound-1-2'));
  assert.ok(!sdk.carriesMarker('inbound-42 was mentioned'));
  assert.ok(!sdk.carriesMarker('inbound-x-1'));
  assert.ok(!sdk.carriesMarker('inbound-42-'));
  assert.ok(!sdk.carriesMarker('a note from a person'));
});

test('json requests say their content type', () => {
  const put = sdk.putJson('/x', { a: 1 });
  assert.equal(put.method, 'put');
  assert.equal(put.path, '/x');
  assert.deepEqual(put.headers, [['content-type', 'application/json']]);
  assert.equal(text(put.body), '{"a":1}');
  assert.ok(put.body instanceof Uint8Array);
  assert.equal(put.rememberAs, undefined);
  assert.equal(sdk.postJson('/y', [], { rememberAs: 'k' }).method, 'post');
  assert.equal(sdk.postJson('/y', [], { rememberAs: 'k' }).rememberAs, 'k');
  assert.equal(sdk.jsonRequest('patch', '/z', null).method, 'patch');
});

test('incident ids (BigInts) are JSON numbers, as in the other SDKs', () => {
  assert.equal(text(sdk.postJson('/x', { id: 42n }).body), '{"id":42}');
  assert.equal(text(sdk.postJson('/x', { id: 2n ** 64n - 1n }).body), '{"id":"18446744073709551615"}');
});

test('delete and request build what the WIT expects', () => {
  assert.deepEqual(sdk.delete('/y', { rememberAs: 'k' }), {
    method: 'delete',
    path: '/y',
    headers: [],
    body: new Uint8Array(),
    rememberAs: 'k',
  });
  const patch = sdk.request('patch', '/t', { body: 'closed', headers: [['content-type', 'text/plain']] });
  assert.deepEqual(patch.body, new TextEncoder().encode('closed'));
  assert.deepEqual(patch.headers, [['content-type', 'text/plain']]);
  assert.equal(patch.rememberAs, undefined);
});

test('outbound() sends nothing by default', () => {
  assert.deepEqual(sdk.outbound().onChange(change, incident, '{}'), []);
});

test('outbound(onChange) answers with what it returns; nothing is nothing', () => {
  const seen = [];
  const outbound = sdk.outbound((...args) => {
    seen.push(args);
    return args[0].kind === 'accepted' ? [sdk.putJson('/t', { note: args[0].marker })] : undefined;
  });
  const requests = outbound.onChange(change, incident, '{"base": "/v2"}');
  assert.equal(requests.length, 1);
  assert.equal(text(requests[0].body), '{"note":"inbound-42-17"}');
  assert.deepEqual(seen, [[change, incident, '{"base": "/v2"}']]);
  assert.deepEqual(outbound.onChange({ ...change, kind: 'noted' }, incident, '{}'), []);
});

test("an OutboundError is the call's error, its message the text", () => {
  const outbound = sdk.outbound(() => {
    throw new sdk.OutboundError('the ticket is closed');
  });
  assert.throws(
    () => outbound.onChange(change, incident, '{}'),
    (thrown) => thrown === 'the ticket is closed',
  );
});

test('a host API error (a write during on-change) becomes the error text', () => {
  globalThis.fakeHost.incidents.comment = () => {
    throw Object.assign(new Error('invalid'), { payload: { tag: 'invalid', val: 'read only' } });
  };
  const outbound = sdk.outbound((_change, { id }) => {
    sdk.incidents.comment(id, undefined, 'x');
    return [];
  });
  assert.throws(
    () => outbound.onChange(change, incident, '{}'),
    (thrown) => thrown === 'host API error: invalid call: read only',
  );
});

test('any other exception fails the call with its stack', (t) => {
  const printed = [];
  t.mock.method(console, 'error', (line) => printed.push(line));
  const outbound = sdk.outbound(() => {
    throw new TypeError('a bug');
  });
  assert.throws(() => outbound.onChange(change, incident, '{}'), TypeError);
  assert.match(printed.join('\n'), /TypeError: a bug/);
});

test('the SDK imports the API version of the WIT it builds against', () => {
  const wit = readFileSync(new URL('../../plugins/sdk/wit/plugin.wit', import.meta.url), 'utf8');
  const version = /^package inbound:plugin@([0-9.]+);$/m.exec(wit)[1];
  assert.equal(sdk.API_VERSION, version);
  const source = readFileSync(new URL('../../plugins/js-sdk/inbound_sdk.js', import.meta.url), 'utf8');
  for (const name of ['incidents', 'state', 'log']) {
    assert.ok(source.includes(`from 'inbound:plugin/${name}@${version}';`), name);
  }
});
