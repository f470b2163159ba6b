#!/usr/bin/env bash
# Walks the whole authorization code flow with PKCE against provider.mjs,
# with curl and a cookie jar and no Rust: discovery, the authorization
# request, the login form, the consent form, the redirect back (not
# followed: nothing listens there), the token request, the ID token's
# claims. Then a second sign-in on the same session (no form shown) whose
# code is redeemed with client_secret_post, and the refusals that matter:
# no PKCE, a wrong code_verifier, a wrong secret, another redirect URI.
# Finally SIGTERM must stop the provider with status 0.
#
# Run from anywhere: tests/e2e/oidc-provider/smoke.sh
# Needs make, node 20 and npm (for `make oidc-provider`), curl, openssl,
# python3. Prints `smoke: 1 passed, 0 failed` at the end when all holds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"
make --no-print-directory oidc-provider

work=$(mktemp -d)
provider_pid=
cleanup() {
  if [ -n "$provider_pid" ] && kill -0 "$provider_pid" 2>/dev/null; then kill "$provider_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAILED: $*" >&2
  if [ -s "$work/provider.err" ]; then echo "--- provider stderr:" >&2; cat "$work/provider.err" >&2; fi
  echo "smoke: 0 passed, 1 failed"
  exit 1
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
issuer="http://127.0.0.1:$port"
client_id=inbound-console
client_secret='s3cret/with+odd=chars'
redirect_uri=http://127.0.0.1:9/ui/sign-in/oidc/callback

OIDC_PORT=$port OIDC_ISSUER=$issuer OIDC_CLIENT_ID=$client_id \
  OIDC_CLIENT_SECRET=$client_secret OIDC_REDIRECT_URI=$redirect_uri \
  node tests/e2e/oidc-provider/provider.mjs >"$work/provider.out" 2>"$work/provider.err" &
provider_pid=$!

for _ in $(seq 100); do
  grep -qx "listening $issuer" "$work/provider.out" 2>/dev/null && break
  kill -0 "$provider_pid" 2>/dev/null || fail "the provider exited before it listened"
  sleep 0.1
done
grep -qx "listening $issuer" "$work/provider.out" || fail "no 'listening $issuer' line within 10 s"
echo "smoke: provider up: $(cat "$work/provider.out")"

jar="$work/cookies"
# GET (or POST with -d) without following redirects; prints the Location.
location() { curl -sS -c "$jar" -b "$jar" -o "$work/body" -w '%{redirect_url}' "$@"; }
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
query() { python3 -c 'import sys, urllib.parse; q = urllib.parse.parse_qs(urllib.parse.urlsplit(sys.argv[1]).query); print(q.get(sys.argv[2], [""])[0])' "$1" "$2"; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# The form's action on the page saved in $work/body.
form_action() { python3 -c 'import re, sys, html; m = re.search(r"<form[^>]*action=\"([^\"]+)\"[^>]*method=\"post\"", open(sys.argv[1]).read()); print(html.unescape(m.group(1)) if m else "")' "$work/body"; }

# Discovery.
discovery_url="$issuer/.well-known/openid-configuration"
curl -sSf "$discovery_url" >"$work/discovery.json" || fail "GET $discovery_url"
[ "$(json issuer <"$work/discovery.json")" = "$issuer" ] || fail "discovery issuer is not $issuer"
authorization_endpoint=$(json authorization_endpoint <"$work/discovery.json")
token_endpoint=$(json token_endpoint <"$work/discovery.json")
grep -q '"S256"' "$work/discovery.json" || fail "discovery lacks code_challenge_methods_supported S256"
echo "smoke: discovery: authorization $authorization_endpoint, token $token_endpoint"

# PKCE S256, state and nonce.
new_verifier() { openssl rand 48 | b64url; }
challenge_of() { printf %s "$1" | openssl dgst -sha256 -binary | b64url; }
authorize_url() { # $1 challenge, $2 state, $3 nonce, [$4 redirect URI]
  echo "$authorization_endpoint?response_type=code&client_id=$(urlenc "$client_id")&redirect_uri=$(urlenc "${4:-$redirect_uri}")&scope=openid%20email%20profile&state=$2&nonce=$3&code_challenge=$1&code_challenge_method=S256"
}
verifier=$(new_verifier)
state=$(openssl rand -hex 12)
nonce=$(openssl rand -hex 12)

# 1. The authorization request: to the login page.
login_page=$(location "$(authorize_url "$(challenge_of "$verifier")" "$state" "$nonce")")
case "$login_page" in "$issuer/interaction/"*) ;; *) fail "the authorization request went to '$login_page', not a login page";; esac
curl -sSf -c "$jar" -b "$jar" -o "$work/body" "$login_page" || fail "GET $login_page"
grep -q 'name="prompt" value="login"' "$work/body" || fail "the login page has no prompt=login field"
grep -q 'name="login"' "$work/body" || fail "the login page has no login field"
grep -q 'name="password"' "$work/body" || fail "the login page has no password field"
grep -q 'fonts.googleapis' "$work/body" && fail "the login page still imports a web font"
action=$(form_action)
[ "$action" = "$login_page" ] || fail "the login form posts to '$action', not to its own page $login_page"
echo "smoke: login page $login_page posts to $action"

# 2. The login form: back to the authorization endpoint, which asks for consent.
resume=$(location --data-urlencode prompt=login --data-urlencode login=alice@example.test --data-urlencode password=anything "$action")
case "$resume" in "$authorization_endpoint/"*) ;; *) fail "the login post went to '$resume', not back to $authorization_endpoint/<uid>";; esac
consent_page=$(location "$resume")
case "$consent_page" in "$issuer/interaction/"*) ;; *) fail "after login the flow went to '$consent_page', not a consent page";; esac
curl -sSf -c "$jar" -b "$jar" -o "$work/body" "$consent_page" || fail "GET $consent_page"
grep -q 'name="prompt" value="consent"' "$work/body" || fail "the consent page has no prompt=consent field"
[ "$(grep -c '<button' "$work/body")" = 1 ] || fail "the consent page has not exactly one button"
action=$(form_action)
echo "smoke: consent page $consent_page posts to $action"

# 3. The consent form: back to the authorization endpoint, which redirects
# to the client with a code.
resume=$(location --data-urlencode prompt=consent "$action")
case "$resume" in "$authorization_endpoint/"*) ;; *) fail "the consent post went to '$resume', not back to $authorization_endpoint/<uid>";; esac
callback=$(location "$resume")
case "$callback" in "$redirect_uri?"*) ;; *) fail "the flow ended at '$callback', not at $redirect_uri";; esac
[ "$(query "$callback" state)" = "$state" ] || fail "the callback's state is not ours: $callback"
[ "$(query "$callback" iss)" = "$issuer" ] || fail "the callback's iss is not $issuer: $callback"
code=$(query "$callback" code)
[ -n "$code" ] || fail "no code in $callback"
echo "smoke: callback $callback"

# 4. The token request, with the code_verifier and the secret in HTTP Basic
# (client_secret_basic; both url-encoded first, as RFC 6749 2.3.1 says).
token() { curl -sS -o "$work/token.json" -w '%{http_code}' "$token_endpoint" "$@"; }
status=$(token -u "$(urlenc "$client_id"):$(urlenc "$client_secret")" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$code" \
  --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$verifier")
[ "$status" = 200 ] || fail "token request (client_secret_basic): HTTP $status $(cat "$work/token.json")"
id_token=$(json id_token <"$work/token.json")
[ "$(json token_type <"$work/token.json")" = Bearer ] || fail "token_type is not Bearer"
claims() { python3 -c '
import base64, json, sys
header, payload = [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in sys.argv[1].split(".")[:2]]
print(json.dumps({"header": header, "claims": payload}, indent=2, sort_keys=True))' "$1"; }
claims "$id_token" >"$work/claims.json"
echo "smoke: ID token (client_secret_basic):"
cat "$work/claims.json"
python3 - "$work/claims.json" "$issuer" "$client_id" "$nonce" <<'EOF' || fail "the ID token's claims are not the expected ones"
import json, sys
doc = json.load(open(sys.argv[1]))
header, claims = doc["header"], doc["claims"]
issuer, client_id, nonce = sys.argv[2:5]
expected = {"iss": issuer, "aud": client_id, "nonce": nonce, "sub": "alice@example.test",
            "email": "alice@example.test", "email_verified": True, "preferred_username": "alice"}
wrong = {k: (claims.get(k), v) for k, v in expected.items() if claims.get(k) != v}
assert header["alg"] == "RS256", header
assert not wrong, wrong
EOF

# 5. A second sign-in on the same browser session: no login, no consent,
# straight back with a code; redeemed with client_secret_post, and a login
# id without @ gets an example.test address (checked on a fresh session).
verifier=$(new_verifier)
callback=$(location "$(authorize_url "$(challenge_of "$verifier")" s2 n2)")
case "$callback" in "$redirect_uri?"*) ;; *) fail "the second sign-in went to '$callback', not straight to $redirect_uri";; esac
status=$(token --data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret" \
  --data-urlencode grant_type=authorization_code --data-urlencode "code=$(query "$callback" code)" \
  --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$verifier")
[ "$status" = 200 ] || fail "token request (client_secret_post): HTTP $status $(cat "$work/token.json")"
echo "smoke: second sign-in on the same session: no form, code redeemed with client_secret_post"

# 6. Refusals. Without PKCE: an error back at the client.
no_pkce="$authorization_endpoint?response_type=code&client_id=$(urlenc "$client_id")&redirect_uri=$(urlenc "$redirect_uri")&scope=openid&state=s3&nonce=n3"
callback=$(location "$no_pkce")
[ "$(query "$callback" error)" = invalid_request ] || fail "an authorization request without PKCE was not refused: $callback"
# Another redirect URI: an error page at the provider, no redirect.
other=$(location "$(authorize_url "$(challenge_of "$verifier")" s4 n4 http://127.0.0.1:9/elsewhere)")
[ -z "$other" ] || fail "an unregistered redirect URI was redirected to: $other"
grep -q redirect_uri "$work/body" || fail "the unregistered redirect URI's error page does not name redirect_uri"
# A wrong code_verifier, then a wrong secret, each on a fresh code.
fresh_code() { local v; v=$(new_verifier); query "$(location "$(authorize_url "$(challenge_of "$v")" s5 n5)")" code; }
status=$(token -u "$client_id:$(urlenc "$client_secret")" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$(fresh_code)" --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$(new_verifier)")
[ "$status" = 400 ] && grep -q invalid_grant "$work/token.json" || fail "a wrong code_verifier was not refused: HTTP $status $(cat "$work/token.json")"
verifier=$(new_verifier)
code=$(query "$(location "$(authorize_url "$(challenge_of "$verifier")" s6 n6)")" code)
status=$(token -u "$client_id:wrong" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$verifier")
[ "$status" = 401 ] && grep -q invalid_client "$work/token.json" || fail "a wrong client secret was not refused: HTTP $status $(cat "$work/token.json")"
echo "smoke: refused: no PKCE, an unregistered redirect URI, a wrong code_verifier, a wrong secret"

# 7. A login id without @, on a fresh session.
rm -f "$jar"
verifier=$(new_verifier)
page=$(location "$(authorize_url "$(challenge_of "$verifier")" s7 n7)")
curl -sSf -c "$jar" -b "$jar" -o "$work/body" "$page"
resume=$(location --data-urlencode prompt=login --data-urlencode login=bob --data-urlencode password=x "$(form_action)")
page=$(location "$resume")
curl -sSf -c "$jar" -b "$jar" -o "$work/body" "$page"
callback=$(location "$(location --data-urlencode prompt=consent "$(form_action)")")
status=$(token -u "$client_id:$(urlenc "$client_secret")" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$(query "$callback" code)" --data-urlencode "redirect_uri=$redirect_uri" --data-urlencode "code_verifier=$verifier")
[ "$status" = 200 ] || fail "token request for bob: HTTP $status $(cat "$work/token.json")"
claims "$(json id_token <"$work/token.json")" | python3 -c '
import json, sys
c = json.load(sys.stdin)["claims"]
assert (c["sub"], c["email"], c["preferred_username"]) == ("bob", "bob@example.test", "bob"), c' \
  || fail "login bob did not give sub bob, email bob@example.test, preferred_username bob"
echo "smoke: login 'bob' gives email bob@example.test"

# 8. SIGTERM stops it, with status 0.
kill -TERM "$provider_pid"
status=0
wait "$provider_pid" || status=$?
provider_pid=
[ "$status" = 0 ] || fail "the provider exited with status $status on SIGTERM"
echo "smoke: SIGTERM: exited 0"
echo "smoke: 1 passed, 0 failed"
