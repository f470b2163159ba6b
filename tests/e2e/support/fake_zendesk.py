#!/usr/bin/env python3
"""A fake of Zendesk's Tickets API for the two-way tests, checking what the
real one checks and answering as it does.

- `PUT /api/v2/tickets/{id}.json` with HTTP basic auth `email/token:TOKEN`
  (Zendesk's API-token form), `Content-Type: application/json` and a body
  `{"ticket": {...}}` whose `comment` is `{"body": <non-empty text>,
  "public": <bool>}` and whose `status` is a Zendesk status. Answers 200 with
  the ticket, 401 `{"error": "Couldn't authenticate you"}`, 400 with
  `RecordInvalid` details, 404 for an unknown ticket, 429 with `Retry-After`
  for the first `--throttle-first` updates (Zendesk's rate limit).
- After each update it fires the ticket's trigger as Zendesk does: the
  spec's JSON body, with the new status and the update's comment as
  `latest_comment`, POSTed to `--webhook`. Inbound must recognise that echo.
- Test control: `POST /_webhook` sets where the trigger posts (inbound's
  webhook URL, known once inbound runs); `POST /_tickets` registers a ticket
  (the trigger body's fields). Every update is appended to `--log` as one
  JSON line, and every echo with inbound's answer.
"""

import argparse
import base64
import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}
TICKET_PATH = re.compile(r"^/api/v2/tickets/(\d+)\.json$")

args = None
webhook = None
tickets = {}
lock = threading.Lock()
updates_seen = 0


def log(entry):
    with lock, open(args.log, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def fire_trigger(ticket):
    """POSTs the trigger's JSON body (the setup guide's) to inbound."""
    body = json.dumps(ticket).encode()
    request = urllib.request.Request(
        webhook, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    except OSError as error:
        status, text = 0, str(error)
    log({"echo": True, "ticket": ticket["id"], "status": status, "answer": text})


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def answer(self, code, value, headers=()):
        data = json.dumps(value).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, text in headers:
            self.send_header(name, text)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def do_POST(self):
        global webhook
        body = self.read_body()
        if self.path == "/_webhook":
            webhook = body.decode()
            return self.answer(200, {"webhook": webhook})
        if self.path == "/_tickets":
            ticket = json.loads(body)
            with lock:
                tickets[str(ticket["id"])] = ticket
            return self.answer(201, ticket)
        self.answer(404, {"error": "InvalidEndpoint"})

    def do_PUT(self):
        body = self.read_body()
        code, value, headers = self.update(body)
        log({
            "method": "PUT",
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "answered": code,
        })
        self.answer(code, value, headers)

    def update(self, body):
        global updates_seen
        expected = "Basic " + base64.b64encode(f"{args.user}:{args.token}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return 401, {"error": "Couldn't authenticate you"}, ()
        match = TICKET_PATH.match(self.path)
        if not match:
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}, ()
        with lock:
            updates_seen += 1
            throttled = updates_seen <= args.throttle_first
        if throttled:
            return 429, {"error": "TooManyRequests"}, (("Retry-After", "1"),)
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return 400, {"error": "Unsupported Content-Type"}, ()
        try:
            update = json.loads(body)["ticket"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "InvalidValue", "description": "body must be {\"ticket\": {...}}"}, ()
        problems = []
        comment = update.get("comment")
        if comment is not None:
            if not isinstance(comment, dict) or not isinstance(comment.get("body"), str) or not comment["body"].strip():
                problems.append("comment.body must be non-empty text")
            elif not isinstance(comment.get("public", True), bool):
                problems.append("comment.public must be a boolean")
        status = update.get("status")
        if status is not None and status not in STATUSES:
            problems.append(f"status {status!r} is not a ticket status")
        if problems:
            return 422, {"error": "RecordInvalid", "details": problems}, ()
        ticket_id = match.group(1)
        with lock:
            ticket = tickets.get(ticket_id)
            if ticket is None:
                return 404, {"error": "RecordNotFound", "description": "Not found"}, ()
            if status is not None:
                ticket["status"] = status.capitalize()
            if comment is not None:
                ticket["latest_comment"] = comment["body"]
            echo = dict(ticket)
        threading.Thread(target=fire_trigger, args=(echo,), daemon=True).start()
        return 200, {"ticket": {"id": int(ticket_id), "status": echo["status"].lower()}}, ()


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--throttle-first", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
