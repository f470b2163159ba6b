#!/usr/bin/env python3
"""A fake of the chat services the Teams, Mattermost and Discord notifiers
post to, for the end-to-end tests, checking what the real ones check and
answering as they do.

- Teams Workflows, "When a Teams webhook request is received":
  `POST /workflows/{anything}` with `Content-Type: application/json` and a
  message `{"type": "message", "attachments": [<one attachment>]}` whose
  attachment is of `contentType` `application/vnd.microsoft.card.adaptive`
  and whose `content` is an Adaptive Card (`type` `AdaptiveCard`, a
  `version`, a `body` list), at most 28 KB in all. Answers 202 with an empty
  body, as Workflows does; 400 otherwise (413 over the size).
- Mattermost incoming webhooks: `POST /hooks/{key}` with JSON that has
  `text` or `attachments`. Answers 200 `ok` (text/plain); 400 with
  Mattermost's error JSON without either, or when the body is no JSON.
- Discord webhooks: `POST /api/webhooks/{id}/{token}` with JSON within
  Discord's limits (content 2000; 10 embeds; title 256, description 4096,
  25 fields of name 256 and value 1024, footer 2048; 6000 characters of
  embeds in all) and `allowed_mentions` present with a `parse` that names
  neither `everyone` nor `roles`. Answers 204; 400 `Invalid Form Body`
  otherwise. With `--rate-limit-first N` the first N requests are answered
  429 with `Retry-After: 1` and Discord's rate-limit JSON.

Every request is appended to `--log` as one JSON line: its method, path,
headers, body, the time it arrived (`at`, Unix seconds), the status
answered and, for a refusal, the `problem`.
"""

import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEAMS_PATH = re.compile(r"^/workflows/[^/?]+(/[^?]*)?(\?.*)?$")
MATTERMOST_PATH = re.compile(r"^/hooks/[A-Za-z0-9]+$")
DISCORD_PATH = re.compile(r"^/api/webhooks/\d+/[A-Za-z0-9_-]+(\?.*)?$")
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
TEAMS_MAX_BYTES = 28 * 1024

args = None
lock = threading.Lock()
discord_seen = 0


def log(entry):
    with lock, open(args.log, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


class Refused(Exception):
    """A request the service refuses: the status, the body, its type."""

    def __init__(self, status, body, problem, headers=()):
        super().__init__(problem)
        self.status, self.body, self.problem, self.headers = status, body, problem, headers


def json_body(handler, body, refuse):
    if not (handler.headers.get("Content-Type") or "").startswith("application/json"):
        raise refuse("Content-Type is not application/json")
    try:
        return json.loads(body)
    except ValueError:
        raise refuse("the body is not JSON")


def teams(handler, body):
    def refuse(problem, status=400):
        error = {"error": {"code": "InvalidRequestContent", "message": problem}}
        return Refused(status, json.dumps(error).encode(), problem)

    if len(body) > TEAMS_MAX_BYTES:
        raise refuse(f"the message is {len(body)} bytes, over 28 KB", 413)
    message = json_body(handler, body, refuse)
    if not isinstance(message, dict) or message.get("type") != "message":
        raise refuse('"type" is not "message"')
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        raise refuse("not exactly one attachment")
    attachment = attachments[0]
    if not isinstance(attachment, dict) or attachment.get("contentType") != ADAPTIVE_CARD:
        raise refuse(f"the attachment's contentType is not {ADAPTIVE_CARD}")
    card = attachment.get("content")
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
        raise refuse('the attachment\'s content is not of type "AdaptiveCard"')
    if not isinstance(card.get("version"), str) or not isinstance(card.get("body"), list):
        raise refuse("the card has no version or no body list")
    return 202, b"", "text/plain"


def mattermost(handler, body):
    def refuse(problem, error_id="web.incoming_webhook.parse.app_error"):
        error = {
            "id": error_id,
            "message": problem,
            "detailed_error": "",
            "request_id": "fake",
            "status_code": 400,
        }
        return Refused(400, json.dumps(error).encode(), problem)

    post = json_body(handler, body, refuse)
    if not isinstance(post, dict):
        raise refuse("the body is not a JSON object")
    if not post.get("text") and not post.get("attachments"):
        raise refuse("No text specified", "web.incoming_webhook.text.app_error")
    return 200, b"ok", "text/plain"


def discord_problems(message):
    """What Discord's validation refuses in a webhook message."""
    problems = []
    content = message.get("content") or ""
    if not isinstance(content, str) or len(content) > 2000:
        problems.append("content: over 2000 characters")
    embeds = message.get("embeds") or []
    if not content and not embeds:
        problems.append("Cannot send an empty message")
    if not isinstance(embeds, list) or len(embeds) > 10:
        problems.append("embeds: more than 10")
        embeds = []
    total = 0

    def text(value, limit, where):
        nonlocal total
        if value is None:
            return
        if not isinstance(value, str) or len(value) > limit:
            problems.append(f"{where}: over {limit} characters")
        else:
            total += len(value)

    for index, embed in enumerate(embeds):
        text(embed.get("title"), 256, f"embeds.{index}.title")
        text(embed.get("description"), 4096, f"embeds.{index}.description")
        text((embed.get("footer") or {}).get("text"), 2048, f"embeds.{index}.footer.text")
        text((embed.get("author") or {}).get("name"), 256, f"embeds.{index}.author.name")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append(f"embeds.{index}.fields: more than 25")
        for number, field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = field.get(key)
                if not isinstance(value, str) or not value:
                    problems.append(f"embeds.{index}.fields.{number}.{key}: required")
                text(value, limit, f"embeds.{index}.fields.{number}.{key}")
        url = embed.get("url")
        if url is not None and not re.match(r"^https?://", url):
            problems.append(f"embeds.{index}.url: not a well formed URL")
    if total > 6000:
        problems.append(f"embeds: {total} characters in all, over 6000")
    mentions = message.get("allowed_mentions")
    if not isinstance(mentions, dict):
        problems.append("allowed_mentions: missing (a summary could ping @everyone)")
    else:
        parse = mentions.get("parse")
        if not isinstance(parse, list) or {"everyone", "roles"} & set(parse):
            problems.append(f"allowed_mentions.parse: {parse!r} lets the text ping everyone or roles")
        users = mentions.get("users", [])
        if not isinstance(users, list) or len(users) > 100:
            problems.append("allowed_mentions.users: not a list of at most 100")
        elif users and "users" in parse:
            problems.append("allowed_mentions: parse users and users are mutually exclusive")
    return problems


def discord(handler, body):
    global discord_seen

    def refuse(problem):
        error = {"message": "Invalid Form Body", "code": 50035, "errors": {"_errors": [problem]}}
        return Refused(400, json.dumps(error).encode(), problem)

    with lock:
        discord_seen += 1
        limited = discord_seen <= args.rate_limit_first
    if limited:
        answer = {"message": "You are being rate limited.", "retry_after": 1.0, "global": False}
        raise Refused(429, json.dumps(answer).encode(), "rate limited", (("Retry-After", "1"),))
    message = json_body(handler, body, refuse)
    if not isinstance(message, dict):
        raise refuse("the body is not a JSON object")
    problems = discord_problems(message)
    if problems:
        raise refuse("; ".join(problems))
    return 204, b"", None


SERVICES = ((TEAMS_PATH, "teams", teams), (MATTERMOST_PATH, "mattermost", mattermost),
            (DISCORD_PATH, "discord", discord))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_POST(self):
        arrived = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        service, status, data, kind, problem, headers = None, 404, b'{"error": "not found"}', "application/json", "no such endpoint", ()
        for pattern, name, check in SERVICES:
            if pattern.match(self.path):
                service = name
                try:
                    status, data, kind = check(self, body)
                    problem = None
                except Refused as refused:
                    status, data, problem, headers = refused.status, refused.body, refused.problem, refused.headers
                    kind = "application/json"
                break
        log({
            "service": service,
            "method": "POST",
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "at": arrived,
            "answered": status,
            "problem": problem,
        })
        self.send_response(status)
        if kind is not None and status != 204:
            self.send_header("Content-Type", kind)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--rate-limit-first", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
