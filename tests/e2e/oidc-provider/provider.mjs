// A real OpenID Connect provider for the end-to-end tests, and for nothing
// else: panva's certified `oidc-provider` (npm), pinned in package-lock.json
// beside this file, with one confidential client, any login accepted and the
// library's development login and consent pages (devInteractions).
//
// Run: node tests/e2e/oidc-provider/provider.mjs, with
//   OIDC_PORT           port to listen on, on 127.0.0.1 only
//   OIDC_ISSUER         the issuer, exactly as the relying party will compare
//                       it, without a trailing slash: http://127.0.0.1:PORT
//                       (or http://localhost:PORT, see README.md)
//   OIDC_CLIENT_ID      the one client's id
//   OIDC_CLIENT_SECRET  and its secret (client_secret_basic or _post)
//   OIDC_REDIRECT_URI   its one redirect URI, matched exactly
// It prints `listening <issuer>` on stdout once it accepts connections and
// exits 0 on SIGTERM (or SIGINT). Problems go to stderr.
//
// Where the module comes from: `make oidc-provider` runs `npm ci` into
// target/oidc-provider/, so this script loads oidc-provider from
// $OIDC_PROVIDER_MODULES (a node_modules folder) when set, and otherwise from
// <repository>/target/oidc-provider/node_modules, found from this file's
// own path. No NODE_PATH, no copy of this script next to node_modules.

import { createRequire } from 'node:module';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function fail(message) {
  process.stderr.write(`oidc-provider test fixture: ${message}\n`);
  process.exit(2);
}

function env(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

const port = Number(env('OIDC_PORT'));
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`OIDC_PORT is not a port: ${process.env.OIDC_PORT}`);
const issuer = env('OIDC_ISSUER');
// oidc-provider publishes the issuer string as given and mounts its routes
// under its path; with a trailing slash the discovery document would sit at
// `<issuer>.well-known/...` and the strict issuer comparison of the Rust
// client (openidconnect) would depend on how each side spelled it. Refuse.
if (issuer.endsWith('/')) fail(`OIDC_ISSUER must not end with a slash: ${issuer}`);
const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUri = env('OIDC_REDIRECT_URI');

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.OIDC_PROVIDER_MODULES
  || path.resolve(here, '../../../target/oidc-provider/node_modules');
if (!existsSync(path.join(modules, 'oidc-provider', 'package.json'))) {
  fail(`oidc-provider is not installed in ${modules}: run \`make oidc-provider\` (or set OIDC_PROVIDER_MODULES)`);
}
// oidc-provider is an ES module: resolve its entry point from that folder
// (createRequire only resolves, `require` of ESM is not relied upon) and
// import it by URL.
const entry = createRequire(path.join(modules, 'noop.js')).resolve('oidc-provider');
const { default: Provider } = await import(pathToFileURL(entry).href);

// Any login id is an account. Claims by scope: see `claims` below.
async function findAccount(ctx, id) {
  if (typeof id !== 'string' || id === '') return undefined;
  const email = id.includes('@') ? id : `${id}@example.test`;
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email,
        email_verified: true,
        preferred_username: id.split('@')[0],
      };
    },
  };
}

// A fresh RS256 signing key per run (instead of the library's built-in
// development keys, which it warns about).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: randomBytes(8).toString('hex') };

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    // A web (confidential) client, the default application_type. Its
    // redirect URIs may use http and any host as long as the client does not
    // use the implicit grant (only implicit web clients must use https and
    // avoid localhost). `native` is for public apps on the user's device:
    // it would take http only on loopback hosts and is not what the host is.
    application_type: 'web',
    // The registered method; oidc-provider accepts client_secret_post for a
    // client registered with client_secret_basic (and the reverse): both
    // carry the same secret, it only refuses a mix of the two in one request.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  responseTypes: ['code'],
  // PKCE with S256, for every authorization request of every client.
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username'],
  },
  // Put the scope's claims (email, preferred_username) in the ID token too,
  // not only behind the userinfo endpoint: the host reads the ID token.
  conformIdTokenClaims: false,
  findAccount,
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    // Plain http: oidc-provider 8 sets its long-lived session cookie
    // `_session` with SameSite=None, which Chromium drops unless Secure (and
    // Secure needs https); the flow then only works through the library's
    // fallback copy `_session.legacy`. Lax is accepted on http, gives one
    // plain `_session` cookie, and is what oidc-provider 9 defaults to.
    // Cookies name no port: on the same host as the console (127.0.0.1)
    // the browser sends these to the console too, and the console's to us.
    long: { httpOnly: true, sameSite: 'lax' },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  features: {
    // The library's login form (fields `login`, `password`) and consent form
    // (one submit button) at /interaction/<uid>: fine for tests.
    devInteractions: { enabled: true },
    // Nothing here uses them; keep the surface to the code flow.
    introspection: { enabled: false },
    revocation: { enabled: false },
  },
};

const provider = new Provider(issuer, configuration);

// The development pages import a web font from the internet; tests have no
// internet and must not try. Drop that line from every HTML page.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
});

// One line on stderr per refusal, so a failing test shows why.
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'discovery.error', 'jwks.error', 'end_session.error', 'server_error']) {
  provider.on(event, (ctx, error) => {
    const detail = error ?? ctx;
    const why = [detail?.error_description, detail?.error_detail].filter(Boolean).join('; ');
    process.stderr.write(`oidc-provider ${event}: ${detail?.message ?? detail}${why ? ` (${why})` : ''}\n`);
  });
}

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
server.on('error', (error) => fail(`cannot listen on 127.0.0.1:${port}: ${error.message}`));

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // Should a connection linger, do not hang the test that stops us.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
