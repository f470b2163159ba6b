// The JavaScript SDK's field readers against the cases shared with the Rust
// and Python SDKs' tests (readers.json), in node, with the host API faked
// (fake-host-hooks.mjs) as js_sdk.test.mjs does. `make sdk-test` runs it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { test } from 'node:test';

register('./fake-host-hooks.mjs', import.meta.url);
const sdk = await import('../../plugins/js-sdk/inbound_sdk.js');

const cases = JSON.parse(readFileSync(new URL('./readers.json', import.meta.url), 'utf8'));

// The cases name the readers in snake_case, as the Rust and Python SDKs do.
const camel = (name) => name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());

// What each reader gives besides `undefined`.
const READ_TYPES = {
  numberField: 'number',
  optNumberField: 'number',
  integerField: 'number',
  optIntegerField: 'number',
  boolField: 'boolean',
  optBoolField: 'boolean',
};

function read(call, input, at, field) {
  if (call === 'header') return sdk.header(input, field);
  if (call === 'stringOrNumber' || call === 'textField') return sdk[call](input, field);
  return sdk[call](input, at, field);
}

test('there are shared cases', () => {
  assert.ok(cases.length > 100, `${cases.length} cases`);
});

cases.forEach((reader, number) => {
  const call = camel(reader.call);
  const { input, field, expect } = reader;
  const at = reader.at ?? '';
  test(`case ${number}: ${call}(${JSON.stringify(input)}, '${at}', '${field}')`, () => {
    assert.equal(typeof sdk[call], 'function', `the SDK has ${call}`);
    const isError =
      expect !== null && typeof expect === 'object' && Object.keys(expect).join() === 'error';
    if (isError) {
      assert.throws(
        () => read(call, input, at, field),
        (thrown) => thrown instanceof sdk.Rejection && thrown.message.includes(expect.error),
      );
      return;
    }
    const got = read(call, input, at, field);
    if (expect === null) {
      assert.equal(got, undefined, 'absent is undefined');
      return;
    }
    assert.deepEqual(got, expect);
    if (READ_TYPES[call]) assert.equal(typeof got, READ_TYPES[call]);
  });
});

test('a null object field is undefined, so a plugin sees "heartbeat": null', () => {
  const body = sdk.parseJson(new TextEncoder().encode('{"heartbeat": null, "monitor": {"id": 3}}'));
  assert.equal(sdk.optObjectField(body, '', 'heartbeat'), undefined);
  const monitor = sdk.optObjectField(body, '', 'monitor');
  assert.equal(sdk.integerField(monitor, 'monitor', 'id'), 3);
  assert.equal(sdk.textField(monitor, 'id'), '3');
});

test('an integer is never -0, and values JSON cannot hold are refused', () => {
  assert.ok(Object.is(sdk.integerField({ n: -0 }, '', 'n'), 0));
  assert.throws(() => sdk.numberField({ n: Infinity }, '', 'n'), /`n` is Infinity/);
  assert.throws(() => sdk.integerField({ n: NaN }, '', 'n'), /`n` is NaN/);
  assert.throws(() => sdk.strField({ a: undefined }, '', 'a'), /`a` is missing/);
});
