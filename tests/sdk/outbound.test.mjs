// The Python and JavaScript SDKs' `outbound` export, in real components:
// the test plugins tests/plugins/outbound-py and outbound-js (the same
// plugin in each language) return the requests they built, alike to the
// byte; Grafana, a Python plugin written before 0.5.0, sends nothing.
// Run by `make sdk-test`, which builds them first.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { join } from 'node:path';

import { FakeHost, WASM_OUT, componentWit, instantiate } from './component.mjs';

const API = 'inbound:plugin@0.5.0';
const text = (bytes) => new TextDecoder().decode(bytes);
const json = (value) => new TextEncoder().encode(JSON.stringify(value));

function change(kind, { by = 'ada', text, marker = 'inbound-1-3' } = {}) {
  return { kind, by, text, at: 1_700_000_100_000n, marker };
}

const JSON_HEADERS = [['content-type', 'application/json']];

for (const [lang, wasm] of [
  ['Python', 'inbound_test_outbound_py.wasm'],
  ['JavaScript', 'inbound_test_outbound_js.wasm'],
]) {
  describe(`a ${lang} plugin's on-change`, () => {
    const path = join(WASM_OUT, wasm);
    let host;
    let plugin;
    let incident;
    before(async () => {
      host = new FakeHost();
      plugin = await instantiate(path, host);
      incident = host.incident('T-17', 'accepted');
    });
    const onChange = (what, settings = '{}') => {
      host.readOnly = true;
      try {
        return plugin.outbound.onChange(what, incident, settings);
      } finally {
        host.readOnly = false;
      }
    };

    test('the component exports outbound beside handler and about', async () => {
      for (const name of ['handler', 'about', 'outbound']) {
        assert.ok(plugin.interfaces.includes(`inbound:plugin/${name}@0.5.0`), plugin.interfaces.join(', '));
      }
      const wit = await componentWit(path);
      assert.match(wit, /export inbound:plugin\/outbound@0\.5\.0;/);
      assert.match(wit, /import inbound:plugin\/incidents@0\.5\.0;/);
      assert.ok(!wit.includes('wasi:http'), 'no wasi:http import');
      assert.equal(plugin.about.describe().version, '0.1.0', API);
    });

    test('accepted: a PUT of a JSON note carrying the marker, a POST remembered', () => {
      const requests = onChange(change('accepted'));
      assert.deepEqual(requests, [
        {
          method: 'put',
          path: '/api/tickets/T-17',
          headers: JSON_HEADERS,
          body: json({ note: 'Accepted by ada [inbound-1-3]' }),
          rememberAs: undefined,
        },
        {
          method: 'post',
          path: '/api/silences',
          headers: JSON_HEADERS,
          body: json({ matchers: [{ name: 'ticket', value: 'T-17' }], comment: 'inbound-1-3' }),
          rememberAs: 'silence-T-17',
        },
      ]);
      assert.equal(host.logs.at(-1), 'info: T-17: accepted by ada');
    });

    test('noted: a POST, its answer remembered; the settings are read', () => {
      const noted = change('noted', { text: 'looking', marker: 'inbound-1-4' });
      const requests = onChange(noted, '{"base": "/v2"}');
      assert.equal(requests.length, 1);
      assert.equal(requests[0].method, 'post');
      assert.equal(requests[0].path, '/v2/tickets/T-17/comments');
      assert.deepEqual(requests[0].headers, JSON_HEADERS);
      // The incident id (a u64) is a JSON number in either language.
      assert.equal(text(requests[0].body), '{"text":"looking","incident":1,"marker":"inbound-1-4"}');
      assert.equal(requests[0].rememberAs, 'comment-T-17');
    });

    test('resolved: requests in order, one made from what the state remembered', () => {
      const patch = {
        method: 'patch',
        path: '/api/tickets/T-17',
        headers: [['content-type', 'text/plain']],
        body: new TextEncoder().encode('closed by ada'),
        rememberAs: undefined,
      };
      assert.deepEqual(onChange(change('resolved')), [patch]);
      host.state.set('silence-T-17', json({ silenceID: 'abc' }));
      const del = {
        method: 'delete',
        path: '/api/silences/abc',
        headers: [],
        body: new Uint8Array(),
        rememberAs: undefined,
      };
      assert.deepEqual(onChange(change('resolved')), [del, patch]);
    });

    test('held for maintenance: nothing to send', () => {
      assert.deepEqual(onChange(change('held-for-maintenance', { by: 'inbound', text: 'db upgrade' })), []);
    });

    test('escalation exhausted: the plugin says why it cannot', () => {
      assert.throws(
        () => onChange(change('escalation-exhausted', { by: 'inbound' })),
        (error) => error.payload === 'nobody is on call at the sender',
      );
      assert.equal(host.logs.at(-1), 'info: T-17: escalation-exhausted by inbound');
    });

    test('a write to the host API fails the attempt with the host error', () => {
      assert.throws(
        () => onChange(change('noted', { text: 'write' })),
        (error) => error.payload === 'host API error: invalid call: comment is not allowed during on-change',
      );
      assert.deepEqual(host.refusedWrites, ['comment']);
    });

    test('handle ignores the sender echoing a marker and acts on the rest', () => {
      const request = (body) => ({ source: 'tickets', headers: [], body: json(body), settings: '{}' });
      const created = plugin.handler.handle(request({ id: 'T-18', status: 'firing' }));
      assert.deepEqual(created.map((o) => o.action), ['created']);
      const echo = { id: 'T-18', status: 'resolved', comment: 'Accepted by ada [inbound-1-3]' };
      assert.deepEqual(plugin.handler.handle(request(echo)), []);
      assert.equal(host.logs.at(-1), 'info: T-18: our own note came back; nothing to do');
      const mention = { id: 'T-18', status: 'resolved', comment: 'inbound-18 done' };
      const resolved = plugin.handler.handle(request(mention));
      assert.deepEqual(resolved.map((o) => o.action), ['resolved']);
    });
  });
}

describe('a Python plugin without on_change (Grafana, unchanged since 0.4.0)', () => {
  test('exports outbound, which sends nothing', async () => {
    const host = new FakeHost();
    const grafana = await instantiate(join(WASM_OUT, 'inbound_grafana.wasm'), host);
    assert.ok(grafana.interfaces.includes('inbound:plugin/outbound@0.5.0'), grafana.interfaces.join(', '));
    const incident = host.incident('fingerprint-1');
    for (const kind of ['accepted', 'resolved', 'noted', 'escalation-exhausted', 'held-for-maintenance']) {
      assert.deepEqual(grafana.outbound.onChange(change(kind, { text: 'x' }), incident, '{}'), [], kind);
    }
  });
});
