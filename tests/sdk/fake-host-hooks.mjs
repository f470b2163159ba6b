// Module hooks for the SDK's unit tests: `inbound:plugin/<interface>@<version>`
// resolves to a module whose functions call `globalThis.fakeHost.<interface>`,
// which each test sets. Registered by js_sdk.test.mjs.

const INTERFACES = {
  incidents: ['findOpen', 'findLatest', 'get', 'create', 'accept', 'resolve', 'comment', 'addLink', 'update'],
  state: ['get', 'set', 'delete'],
  log: ['log'],
};

export async function resolve(specifier, context, next) {
  const match = /^inbound:plugin\/([a-z]+)@[0-9.]+$/.exec(specifier);
  if (match && INTERFACES[match[1]]) {
    return { url: `inbound-fake:${match[1]}`, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('inbound-fake:')) return next(url, context);
  const name = url.slice('inbound-fake:'.length);
  const functions = INTERFACES[name].map(
    (fn) =>
      `const _${fn} = (...args) => globalThis.fakeHost.${name}.${fn}(...args);\n` +
      `export { _${fn} as ${fn} };`,
  );
  return { format: 'module', source: functions.join('\n'), shortCircuit: true };
}
