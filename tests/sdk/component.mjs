// Runs a plugin component in node, without the host: jco (from the locked
// componentize-js toolchain, `make js-toolchain`) transpiles it, WASI comes
// from preview2-shim, and `FakeHost` stands in for the host API.

import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WASM_OUT = join(ROOT, 'target/wasm32-wasip2/release');

const toolchain = createRequire(join(ROOT, 'target/componentize-js/package.json'));
const load = (name) => import(pathToFileURL(toolchain.resolve(name)).href);
const jco = await load('@bytecodealliance/jco');
const { WASIShim } = await load('@bytecodealliance/preview2-shim/instantiation');

/** The WIT world of the component at `path`, as `wasm-tools component wit` prints it. */
export async function componentWit(path) {
  return jco.componentWit(readFileSync(path));
}

/** An error the host API returns: `invalid(text)` and the like. */
export function apiError(tag, val) {
  return Object.assign(new Error(`${tag}: ${val}`), { payload: { tag, val } });
}

/**
 * The host API of one source, in memory: incidents by id, the state, the log
 * lines. While `readOnly` (an on-change call), writes fail with `invalid`,
 * as the host's do.
 */
export class FakeHost {
  constructor() {
    this.incidents = [];
    this.state = new Map();
    this.logs = [];
    this.refusedWrites = [];
    this.readOnly = false;
  }

  incident(key, status = 'pending') {
    const incident = {
      id: BigInt(this.incidents.length + 1),
      key,
      status,
      summary: `Ticket ${key}`,
      details: '',
      priority: undefined,
      url: undefined,
      links: [],
      createdAt: 1_700_000_000_000n,
      updatedAt: 1_700_000_000_000n,
    };
    this.incidents.push(incident);
    return incident;
  }

  write(what, change) {
    if (this.readOnly) {
      this.refusedWrites.push(what);
      throw apiError('invalid', `${what} is not allowed during on-change`);
    }
    return change();
  }

  imports() {
    const open = (key) => this.incidents.findLast((i) => i.key === key && i.status !== 'resolved');
    const byId = (id) => this.incidents.find((i) => i.id === id);
    const found = (id) => byId(id) ?? (() => { throw apiError('not-found', id); })();
    return {
      'inbound:plugin/incidents': {
        findOpen: open,
        findLatest: (key) => this.incidents.findLast((i) => i.key === key),
        get: byId,
        create: (incident) => this.write('create', () => this.incident(incident.key)),
        accept: (id) => this.write('accept', () => Object.assign(found(id), { status: 'accepted' })),
        resolve: (id) => this.write('resolve', () => Object.assign(found(id), { status: 'resolved' })),
        comment: (id) => this.write('comment', () => found(id)),
        addLink: (id) => this.write('add-link', () => found(id)),
        update: (id) => this.write('update', () => found(id)),
      },
      'inbound:plugin/state': {
        get: (key) => this.state.get(key),
        set: (key, value) => this.write('state.set', () => void this.state.set(key, value)),
        delete: (key) => void this.write('state.delete', () => this.state.delete(key)),
      },
      'inbound:plugin/log': { log: (level, message) => this.logs.push(`${level}: ${message}`) },
    };
  }
}

/**
 * The component at `path`, instantiated against `host`: its exports
 * (`handler`, `about`, `outbound`), and `interfaces`, the qualified names of
 * the interfaces it exports (`inbound:plugin/outbound@0.5.0`).
 */
export async function instantiate(path, host) {
  const { files, exports } = await jco.transpile(readFileSync(path), {
    name: 'plugin',
    instantiation: 'async',
    quiet: true,
  });
  const dir = mkdtempSync(join(tmpdir(), 'inbound-sdk-test-'));
  try {
    for (const [name, bytes] of Object.entries(files)) {
      if (name.endsWith('.wasm')) writeFileSync(join(dir, name), bytes);
    }
    writeFileSync(join(dir, 'plugin.mjs'), files['plugin.js']);
    const { instantiate: start } = await import(pathToFileURL(join(dir, 'plugin.mjs')).href);
    const compile = (name) => WebAssembly.compile(readFileSync(join(dir, name)));
    const plugin = await start(compile, { ...new WASIShim().getImportObject(), ...host.imports() });
    const interfaces = exports.map(([name]) => name).filter((name) => name.includes(':'));
    return { ...plugin, interfaces };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
