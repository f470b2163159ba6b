/**
 * The JavaScript SDK for inbound plugins: the same helpers as the Rust and
 * Python SDKs.
 *
 * A plugin is an ES module (`app.js`) that exports `handler`, made by
 * `sdk.handler(onRequest)` where `onRequest(request)` returns the outcomes;
 * `about`, made by `sdk.about({...})`: its name, version and the settings a
 * source of it accepts; and `outbound`, made by `sdk.outbound(onChange)`:
 * what to send back to the sender when a person acts on one of its incidents
 * (`sdk.outbound()` sends nothing). componentize-js builds it into a
 * WebAssembly component against the WIT in `wit/` (world `plugin`,
 * `inbound:plugin@0.5.0`):
 *
 *     import * as sdk from './inbound_sdk.js';
 *
 *     export const about = sdk.about({ name: 'my-alerts', version: '0.1.0', settings: [] });
 *
 *     export const handler = sdk.handler((request) => {
 *       const body = sdk.parseJson(request.body);        // 400 invalid-json, with line and column
 *       const key = sdk.strField(body, '', 'id');         // 400 "the field `id` is missing; expected a string"
 *       const [action, incident] = sdk.openOrCreate(sdk.newIncident(key, 'Disk full'));
 *       sdk.info(`${key}: ${action}`);                    // actions are words: 'created', 'unchanged', ...
 *       return [sdk.outcome(action, incident)];
 *     });
 *
 *     export const outbound = sdk.outbound();
 *
 * Throw a `Rejection` (or use the field readers, which throw it) for a request
 * the sender got wrong: the host answers 400 with its message and applies
 * nothing. Any other exception fails the call (5xx, nothing applied, the event
 * kept for replay) and its stack reaches the operator.
 *
 * WIT values in JavaScript: records are objects with camelCase fields
 * (`incident.createdAt`), enums are strings (`'pending'`, `'high'`), an
 * absent option is `undefined`, and `u64` ids are BigInts (`incident.id` is
 * `1n`; template strings print it as `1`, JSON.stringify refuses it).
 */

import * as incidents from 'inbound:plugin/incidents@0.5.0';
import * as state from 'inbound:plugin/state@0.5.0';
import { log } from 'inbound:plugin/log@0.5.0';

// The plugin API the imports above and the WIT in wit/ are. A new API
// version needs these specifiers changed with the WIT.
export const API_VERSION = '0.5.0';

// The host API as generated from the WIT: incidents.findOpen(key),
// incidents.create(newIncident), state.get(key), ... An api-error is thrown
// as an error whose `payload` is `{ tag: 'not-found' | 'invalid' |
// 'limit-exceeded', val }`.
export { incidents, state };

/** The sender's mistake: the host answers 400 {"error": {code, message}}. */
export class Rejection extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'Rejection';
    this.code = code;
  }

  static missingField(path, expected) {
    return new Rejection('missing-field', `the field \`${path}\` is missing; expected ${expected}`);
  }

  static invalidField(path, why) {
    return new Rejection('invalid-field', `the field \`${path}\` ${why}`);
  }

  static invalidSettings(why) {
    return new Rejection(
      'invalid-settings',
      `the source's settings in config.toml are invalid: ${why}`,
    );
  }
}

/**
 * The `handler` export: calls `onRequest(request)` for each webhook and turns
 * a `Rejection` into the host's 400, a host API error into a
 * `host-api-error` rejection (the plugin's bug; nothing is applied), and any
 * other exception into a failed call whose stack the operator sees.
 */
export function handler(onRequest) {
  return {
    handle(request) {
      try {
        return onRequest(request);
      } catch (error) {
        if (error instanceof Rejection) {
          throw { code: error.code, message: error.message };
        }
        if (isApiError(error)) {
          throw { code: 'host-api-error', message: describeApiError(error.payload) };
        }
        // Anything else is a bug: its stack goes to stderr, which the host
        // puts in the failure it reports, and rethrowing it traps the call.
        console.error(error instanceof Error ? `${error}\n${error.stack}` : `uncaught ${String(error)}`);
        throw error;
      }
    },
  };
}

/**
 * The `about` export: what `inbound plugin check` shows, and the settings a
 * source may have. The host asks when it starts or reloads and refuses a
 * source whose settings do not fit, so a misspelt setting stops the start
 * instead of failing every webhook.
 *
 * - `settings`: `[{ name, kind, required, description }]` with `kind` one of
 *   'text', 'integer', 'number', 'boolean', 'text-list', 'text-map', 'any'
 *   (see `setting`); the host refuses unknown keys, values of another kind
 *   and missing required ones. Leave it out to say nothing and let any key
 *   through.
 * - `checkSettings(settings)`: judges the values (a parsed object); returns
 *   `[{ setting, message }]`, empty when they are fine.
 *
 * Neither may use the host API: the host asks outside any request.
 */
export function about({ name, version, description = '', settings, checkSettings }) {
  return {
    describe() {
      return { name, version, description, settings };
    },
    validateSettings(text) {
      const problems = checkSettings ? checkSettings(JSON.parse(text || '{}')) : [];
      if (problems.length > 0) {
        throw problems.map(({ setting, message }) => ({ setting, message: String(message) }));
      }
    },
  };
}

/** One setting for `about({ settings })`; optional unless `required`. */
export function setting(name, kind, description, { required = false } = {}) {
  return { name, kind, required, description };
}

// --- Acting back on the sender (API 0.5.0) ----------------------------------

/**
 * Why `onChange` cannot say what to send: the attempt fails and the message
 * is logged on the incident.
 */
export class OutboundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'OutboundError';
  }
}

/**
 * The `outbound` export: `onChange(change, incident, settings)` says what to
 * send the sender's API after `change` (a person's accept, resolve or note;
 * escalation exhausted; a maintenance window) to `incident` (as it is now);
 * `settings` is the source's settings as a JSON text. Put `change.marker`
 * into whatever the sender will send back, so the handler can recognise the
 * echo (`carriesMarker`). Called only for sources with a `[sources.outbound]`
 * table; the host API only reads here.
 *
 * `change` is `{ kind, by, text, at, marker }`, `kind` one of 'accepted',
 * 'resolved', 'noted', 'escalation-exhausted', 'held-for-maintenance' and
 * `at` a BigInt (ms since the epoch). Return at most 8 requests (built with
 * `putJson`, `postJson`, `delete`, `request`), sent in order; `[]` or nothing
 * sends nothing. Throw an `OutboundError` to fail the attempt with its
 * message, logged on the incident; any other exception fails it with its
 * stack. `sdk.outbound()`, without `onChange`, sends nothing.
 */
export function outbound(onChange) {
  return {
    onChange(change, incident, settings) {
      if (!onChange) return [];
      try {
        return [...(onChange(change, incident, settings) ?? [])];
      } catch (error) {
        if (error instanceof OutboundError) throw error.message;
        if (isApiError(error)) throw `host API error: ${describeApiError(error.payload)}`;
        console.error(error instanceof Error ? `${error}\n${error.stack}` : `uncaught ${String(error)}`);
        throw error;
      }
    },
  };
}

/**
 * One request to the sender's API. `method` is 'get', 'post', 'put', 'patch'
 * or 'delete'; `path` (and query) is on the origin the operator configured,
 * starting with one `/`; `body` bytes or a string (sent as UTF-8); `headers`
 * `[[name, value]]`. `rememberAs`: after a 2xx answer, the host keeps its body
 * in the source's state under that key, for a later call to read
 * (`state.get`): the id of what it created.
 */
export function request(method, path, { body = new Uint8Array(), headers = [], rememberAs } = {}) {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { method, path, headers, body: bytes, rememberAs: rememberAs ?? undefined };
}

/**
 * A request carrying `body` as JSON (`content-type: application/json`).
 * BigInts (incident ids) are written as numbers (as strings past 2^53).
 */
export function jsonRequest(method, path, body, { rememberAs } = {}) {
  const text = JSON.stringify(body, (_key, value) =>
    typeof value === 'bigint' ? bigintToJson(value) : value,
  );
  return request(method, path, {
    body: text,
    headers: [['content-type', 'application/json']],
    rememberAs,
  });
}

function bigintToJson(value) {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}

export const postJson = (path, body, options) => jsonRequest('post', path, body, options);
export const putJson = (path, body, options) => jsonRequest('put', path, body, options);

/** A DELETE: `sdk.delete(path)`. */
function deleteRequest(path, { rememberAs } = {}) {
  return request('delete', path, { rememberAs });
}
export { deleteRequest as delete };

/**
 * Whether `text` carries a marker the host gave an `onChange` call
 * (`inbound-<incident>-<n>`): the sender is echoing what this plugin sent,
 * and the handler should change nothing for it.
 */
export function carriesMarker(text) {
  return /inbound-[0-9]+-[0-9]/.test(text);
}

function isApiError(error) {
  return typeof error?.payload?.tag === 'string' && 'val' in error.payload;
}

export function describeApiError(payload) {
  switch (payload.tag) {
    case 'not-found':
      return `incident ${payload.val} not found`;
    case 'invalid':
      return `invalid call: ${payload.val}`;
    case 'limit-exceeded':
      return `limit exceeded: ${payload.val}`;
    default:
      return `${payload.tag}: ${payload.val}`;
  }
}

// --- JSON --------------------------------------------------------------------

/**
 * The body as JSON. Raw control characters inside strings (template-built
 * JSON has them) are accepted; anything else malformed is a 400
 * `invalid-json` that gives the line and column.
 */
export function parseJson(body) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new Rejection(
      'invalid-json',
      'the request body is not valid UTF-8; JSON must be sent as UTF-8',
    );
  }
  if (!text.trim()) {
    throw new Rejection('empty-body', 'the request body is empty; expected a JSON object');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const lenient = escapeControlsInStrings(text);
    if (lenient !== text) {
      try {
        return JSON.parse(lenient);
      } catch {
        // Report the error in the text as sent.
      }
    }
    // SpiderMonkey's message: "JSON.parse: <what> at line L column C of the JSON data".
    const what = String(error.message).replace(/^JSON\.parse: /, '').replace(/ of the JSON data$/, '');
    throw new Rejection('invalid-json', `the request body is not valid JSON: ${what}`);
  }
}

// Raw control characters inside JSON strings, as \u escapes.
function escapeControlsInStrings(text) {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const c of text) {
    if (inString && !escaped && c < ' ') {
      out += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
      continue;
    }
    out += c;
    if (escaped) escaped = false;
    else if (inString && c === '\\') escaped = true;
    else if (c === '"') inString = !inString;
  }
  return out;
}

/**
 * The source's `settings` table from config.toml. Read it before the body:
 * `inbound check` calls the plugin with the settings and an empty body, and
 * an `invalid-settings` rejection fails the check.
 */
export function parseSettings(request) {
  let settings;
  try {
    settings = JSON.parse(request.settings || '{}');
  } catch (error) {
    throw Rejection.invalidSettings(String(error.message));
  }
  if (!isObject(settings)) {
    throw Rejection.invalidSettings('expected a table');
  }
  return settings;
}

/** `alerts[2]` + `status` -> `alerts[2].status`. */
export function path(at, field) {
  return at ? `${at}.${field}` : field;
}

export function index(at, position) {
  return `${at}[${position}]`;
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a JSON value is, for messages: `a string`, `an array`, `null`, ... */
export function kind(value) {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'boolean':
      return 'a boolean';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

// The readers below are the Rust SDK's, with the same semantics (a null field
// is a missing one; absent is `undefined`); tests/sdk/readers.json holds the
// cases all three SDKs' tests run. docs/plugin-guide.md, "Reading the
// request", has the table.

function field(obj, at, name, expected, required) {
  if (!isObject(obj)) {
    throw Rejection.invalidField(at || '(body)', `is ${kind(obj)}; expected an object`);
  }
  const value = Object.hasOwn(obj, name) ? (obj[name] ?? null) : null;
  if (value === null && required) {
    throw Rejection.missingField(path(at, name), expected);
  }
  return value;
}

function wrongKind(at, name, value, expected) {
  return Rejection.invalidField(path(at, name), `is ${kind(value)}; expected ${expected}`);
}

/** A required string field; the rejection names its path. */
export function strField(obj, at, name) {
  const value = field(obj, at, name, 'a string', true);
  if (typeof value !== 'string') throw wrongKind(at, name, value, 'a string');
  return value;
}

/** An optional string field: `undefined` when missing or null. */
export function optStrField(obj, at, name) {
  const value = field(obj, at, name, 'a string', false);
  if (value === null) return undefined;
  if (typeof value !== 'string') throw wrongKind(at, name, value, 'a string');
  return value;
}

/** A required array field. */
export function listField(obj, at, name) {
  const value = field(obj, at, name, 'an array', true);
  if (!Array.isArray(value)) throw wrongKind(at, name, value, 'an array');
  return value;
}

/** An optional object field: `undefined` when missing or null. */
export function optObjectField(obj, at, name) {
  const value = field(obj, at, name, 'an object', false);
  if (value === null) return undefined;
  if (!isObject(value)) throw wrongKind(at, name, value, 'an object');
  return value;
}

function number(value, at, name) {
  if (typeof value !== 'number') throw wrongKind(at, name, value, 'a number');
  if (!Number.isFinite(value)) {
    throw Rejection.invalidField(path(at, name), `is ${value}; expected a finite number`);
  }
  return value;
}

/** A required number field, integer or not. */
export function numberField(obj, at, name) {
  return number(field(obj, at, name, 'a number', true), at, name);
}

/** An optional number field: `undefined` when missing or null. */
export function optNumberField(obj, at, name) {
  const value = field(obj, at, name, 'a number', false);
  return value === null ? undefined : number(value, at, name);
}

/**
 * The largest integer every SDK reads exactly, 2^53 - 1: `JSON.parse` rounds
 * larger ones, so all three SDKs refuse them.
 */
export const MAX_EXACT_INTEGER = Number.MAX_SAFE_INTEGER;

function integer(value, at, name) {
  if (typeof value !== 'number') throw wrongKind(at, name, value, 'an integer');
  if (Number.isFinite(value) && !Number.isInteger(value)) {
    throw Rejection.invalidField(
      path(at, name),
      `is ${value}, which has a fraction; expected an integer`,
    );
  }
  if (!Number.isSafeInteger(value)) {
    throw Rejection.invalidField(
      path(at, name),
      `is ${value}, beyond ±${MAX_EXACT_INTEGER}; expected an integer`,
    );
  }
  return value + 0; // -0 is 0
}

/**
 * A required integer field: a number without a fraction (`3.0` and `3e2`
 * count), from -(2^53 - 1) to 2^53 - 1 (`MAX_EXACT_INTEGER`).
 */
export function integerField(obj, at, name) {
  return integer(field(obj, at, name, 'an integer', true), at, name);
}

/** An optional integer field: `undefined` when missing or null. */
export function optIntegerField(obj, at, name) {
  const value = field(obj, at, name, 'an integer', false);
  return value === null ? undefined : integer(value, at, name);
}

/** A required boolean field: `true` or `false`, nothing else. */
export function boolField(obj, at, name) {
  const value = field(obj, at, name, 'a boolean', true);
  if (typeof value !== 'boolean') throw wrongKind(at, name, value, 'a boolean');
  return value;
}

/** An optional boolean field: `undefined` when missing or null. */
export function optBoolField(obj, at, name) {
  const value = field(obj, at, name, 'a boolean', false);
  if (value === null) return undefined;
  if (typeof value !== 'boolean') throw wrongKind(at, name, value, 'a boolean');
  return value;
}

/**
 * A field senders may send as a JSON string or a number, as text: a string
 * as it is, `'true'` or `'false'`, a number as `String(n)` writes it (`3.0`
 * is `'3'`; `JSON.parse` has already rounded integers beyond 2^53).
 * `undefined` when the field is missing or null, an array or an object, or
 * when `obj` is not an object.
 */
export function stringOrNumber(obj, name) {
  if (!isObject(obj) || !Object.hasOwn(obj, name)) return undefined;
  const value = obj[name];
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return undefined;
  }
}

/**
 * An optional string field; numbers and booleans are turned into text
 * (`stringOrNumber`), anything else is `''`.
 */
export function textField(obj, name) {
  return stringOrNumber(obj, name) ?? '';
}

/**
 * The value of the first header called `name`, in any case; `undefined` when
 * there is none. `request.headers` is an array of `[name, value]` pairs,
 * names in lower case, in the order received.
 */
export function header(request, name) {
  const wanted = name.toLowerCase();
  const found = request.headers.find(([key]) => key.toLowerCase() === wanted);
  return found === undefined ? undefined : found[1];
}

// --- Incidents ---------------------------------------------------------------

/**
 * What a plugin supplies to open an incident. `priority` is `'low'`,
 * `'normal'`, `'high'` or `'urgent'`; `links` are `{ label, url }`.
 */
export function newIncident(key, summary, { details = '', priority, url, links = [] } = {}) {
  return { key, summary, details, priority: priority ?? undefined, url: url ?? undefined, links };
}

/**
 * The open incident for `incident.key`, untouched, or a new one: what a
 * "problem" event does. Safe to deliver twice. Returns `[action, incident]`.
 */
export function openOrCreate(incident) {
  const found = incidents.findOpen(incident.key);
  if (found !== undefined && found !== null) return ['unchanged', found];
  return ['created', incidents.create(incident)];
}

/**
 * Resolves the open incident for `key`: what a "recovery" event does.
 * `[action, incident]`, or null when nothing is open (already resolved, or
 * never raised).
 */
export function resolveOpen(key, note) {
  const found = incidents.findOpen(key);
  if (found === undefined || found === null) return null;
  return ['resolved', incidents.resolve(found.id, note ?? undefined)];
}

/**
 * Changes an open incident's summary, details or priority (API 0.4.0); what
 * is left out stays. Changing nothing changes and logs nothing; report a real
 * change as `'commented'`. A resolved incident throws `invalid`.
 */
export function updateIncident(id, { summary, details, priority } = {}) {
  return incidents.update(id, {
    summary: summary ?? undefined,
    details: details ?? undefined,
    priority: priority ?? undefined,
  });
}

export function outcome(action, incident) {
  return { action, incident: incident.id };
}

/**
 * True for an http(s) URL with a host and no whitespace: what the host
 * accepts as an incident's url or link.
 */
export function isWebUrl(url) {
  const match = /^https?:\/\/([^/?#]*)/i.exec(url);
  return match !== null && match[1] !== '' && !/[\s\u0000-\u001f]/.test(url);
}

// --- Log ---------------------------------------------------------------------

export const trace = (message) => log('trace', message);
export const debug = (message) => log('debug', message);
export const info = (message) => log('info', message);
export const warn = (message) => log('warn', message);
export const error = (message) => log('error', message);
