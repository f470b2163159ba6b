#!/usr/bin/env python3
"""A receiver for inbound's webhook and Slack channels: prints every request
and checks the webhook signature (docs/notifications.md).

    python3 docs/examples/receiver.py 9000 SIGNING_SECRET

The end-to-end tests run it too (--log writes one JSON line per request,
--fail-first answers 503 to the first N requests, --delay answers slowly,
--port-file says which port was chosen for port 0)."""

import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, headers, body: bytes, window_seconds: int = 300) -> bool:
    """True when the body is signed with `secret` and the timestamp is recent."""
    timestamp = headers.get("x-inbound-timestamp", "")
    signature = headers.get("x-inbound-signature", "")
    expected = "v1=" + hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= window_seconds
    return fresh and hmac.compare_digest(expected, signature)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("secret", nargs="?", default="")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    parser.add_argument("--port-file", help="write the port listened on to this file")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to the first N requests")
    parser.add_argument("--delay", type=float, default=0, help="seconds to wait before answering")
    args = parser.parse_args()
    lock = threading.Lock()
    seen = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                seen["count"] += 1
                failing = seen["count"] <= args.fail_first
            headers = {name.lower(): value for name, value in self.headers.items()}
            record = {
                "path": self.path,
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "signature_ok": verify(args.secret, headers, body) if args.secret else None,
                "answered": 503 if failing else 200,
            }
            if args.log:
                with lock, open(args.log, "a") as log:
                    log.write(json.dumps(record) + "\n")
            else:
                print(json.dumps(record, indent=2), flush=True)
            if args.delay:
                time.sleep(args.delay)
            self.send_response(record["answered"])
            if failing:
                self.send_header("retry-after", "0")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
