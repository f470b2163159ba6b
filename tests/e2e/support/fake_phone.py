#!/usr/bin/env python3
"""A fake of Telegram's Bot API and Twilio's REST API for the phone channels'
end-to-end tests, checking what the real ones check and answering as they do.

Telegram:
- `POST /bot{token}/sendMessage` with a JSON body. The token must be
  `--telegram-token` (401 `Unauthorized` otherwise); `chat_id` an integer or
  `@channelusername`; `text` in `parse_mode` HTML: only Telegram's tags,
  balanced, every other `<`, `>` and `&` escaped as an entity, and 1 to 4096
  characters after entities parsing (counted in UTF-16 code units, never
  fewer than characters); `reply_markup` an inline keyboard of URL buttons.
  Answers `{"ok": true, "result": {"message_id": n, ...}}`, or 400
  `{"ok": false, "error_code": 400, "description": "Bad Request: ..."}`.
  `--rate-limit-first N` answers the first N authenticated requests 429
  with `Retry-After: 1` and `parameters.retry_after`, as Telegram's flood
  control does.
- Twilio: `POST /2010-04-01/Accounts/{sid}/Messages.json` and `Calls.json`,
  form-encoded, with HTTP basic auth `--twilio-sid:--twilio-token` (401 with
  Twilio's error 20003 otherwise). `To` and `From` in E.164; a message's
  `Body` present and at most two segments (counted here as Twilio counts
  them, written apart from the notifier's counter); a call's `Twiml` XML
  with a `<Response>` root of `<Say>` and `<Pause>`. Answers 201 with the
  new resource (`sid` `SM...` or `CA...`, `status` `queued`), or 400 with
  Twilio's error JSON.

Every request is appended to `--log` as one JSON line: when it came (`at`,
Unix seconds), the service, method, path, headers and body, what was parsed from it (`json` or `form`, Telegram's
`visible` text, an SMS's `segments`, a call's `says`), the `problems` found,
and what was `answered` (status and `answer`).
"""

import argparse
import base64
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
lock = threading.Lock()
counters = {"telegram": 0, "message_id": 0}

TELEGRAM_PATH = re.compile(r"^/bot([^/]*)/sendMessage$")
TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
USERNAME = re.compile(r"^@[A-Za-z0-9_]{5,32}$")

# Telegram's HTML (core.telegram.org/bots/api#html-style): these tags, and
# the entities &lt; &gt; &amp; &quot; and numeric ones.
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                 "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote"}
TAG = re.compile(r"<(/?)([a-z][a-z0-9-]*)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
ATTRIBUTE = re.compile(r"([a-z-]+)(?:=\"([^\"]*)\")?")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# GSM 03.38: the default alphabet by code (0x1B is the escape, not a
# character), and the characters its extension table adds after an escape.
GSM_DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_ESCAPED = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[",
               0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€"}
SEPTETS = {c: 1 for i, c in enumerate(GSM_DEFAULT) if i != 0x1B}
SEPTETS.update({c: 2 for c in GSM_ESCAPED.values()})


def sms_segments(text):
    """Segments Twilio bills for `text`: GSM-7 (160, or 153 per part) when
    every character has septets, else UCS-2 (70, or 67 UTF-16 units per
    part); a character (an escape and its septet, a surrogate pair) never
    straddles two parts."""
    if all(c in SEPTETS for c in text):
        sizes, single, part = [SEPTETS[c] for c in text], 160, 153
    else:
        sizes, single, part = [len(c.encode("utf-16-le")) // 2 for c in text], 70, 67
    if sum(sizes) <= single:
        return 1 if sizes else 0
    parts, room = 1, part
    for size in sizes:
        if size > room:
            parts, room = parts + 1, part
        room -= size
    return parts


def telegram_text(html):
    """Telegram's entity parsing of `html`: (visible text, problem or None)."""
    visible, stack, at = [], [], 0
    while at < len(html):
        c = html[at]
        if c == "<":
            match = TAG.match(html, at)
            if not match:
                return "", f"can't parse entities: unsupported start tag at byte offset {at}"
            closing, name, attributes = match.groups()
            if name not in TELEGRAM_TAGS:
                return "", f"can't parse entities: unsupported start tag \"{name}\""
            if closing:
                if not stack or stack[-1] != name:
                    return "", f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1] if stack else name}\""
                stack.pop()
            else:
                attrs = dict(ATTRIBUTE.findall(attributes))
                if name == "a":
                    href = ENTITY.sub(lambda m: decode_entity(m.group(1)), attrs.get("href", ""))
                    if not href.startswith(("http://", "https://", "tg://")):
                        return "", f"can't parse entities: a link's href {href!r} is not a URL"
                    if "a" in stack:
                        return "", "can't parse entities: a link inside a link"
                stack.append(name)
            at = match.end()
        elif c == "&":
            match = ENTITY.match(html, at)
            if not match:
                return "", f"can't parse entities: a bare & at byte offset {at} (write &amp;)"
            visible.append(decode_entity(match.group(1)))
            at = match.end()
        elif c == ">":
            return "", f"can't parse entities: a bare > at byte offset {at} (write &gt;)"
        else:
            visible.append(c)
            at += 1
    if stack:
        return "", f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
    return "".join(visible), None


def decode_entity(name):
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return NAMED[name]


def utf16_length(text):
    return len(text.encode("utf-16-le")) // 2


def log(entry):
    with lock, open(args.log, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        entry = {
            "at": time.time(),
            "method": "POST",
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "problems": [],
        }
        if self.path.startswith("/bot"):
            entry["service"] = "telegram"
            code, answer, headers = self.telegram(body, entry)
        elif self.path.startswith("/2010-04-01/"):
            entry["service"] = "twilio"
            code, answer, headers = self.twilio(body, entry)
        else:
            entry["service"] = None
            code, answer, headers = 404, {"error": "not found"}, ()
        entry["answered"] = code
        entry["answer"] = answer
        log(entry)
        data = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    # Telegram

    def telegram(self, body, entry):
        def refuse(code, description, headers=(), **extra):
            entry["problems"].append(description)
            return code, {"ok": False, "error_code": code, "description": description, **extra}, headers

        match = TELEGRAM_PATH.match(self.path)
        if not match:
            return refuse(404, "Not Found")
        if match.group(1) != args.telegram_token:
            return refuse(401, "Unauthorized")
        with lock:
            counters["telegram"] += 1
            limited = counters["telegram"] <= args.rate_limit_first
        if limited:
            return 429, {"ok": False, "error_code": 429,
                         "description": "Too Many Requests: retry after 1",
                         "parameters": {"retry_after": 1}}, (("Retry-After", "1"),)
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return refuse(400, "Bad Request: the fake takes JSON bodies only")
        try:
            message = json.loads(body)
        except ValueError:
            return refuse(400, "Bad Request: the body is not JSON")
        if not isinstance(message, dict):
            return refuse(400, "Bad Request: the body is not a JSON object")
        entry["json"] = message
        chat = message.get("chat_id")
        if chat is None or chat == "":
            return refuse(400, "Bad Request: chat_id is empty")
        valid_chat = (isinstance(chat, int) and not isinstance(chat, bool) and chat != 0) or (
            isinstance(chat, str) and (re.fullmatch(r"-?[1-9][0-9]*", chat) or USERNAME.match(chat))
        )
        if not valid_chat:
            return refuse(400, "Bad Request: chat not found")
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            return refuse(400, "Bad Request: message text is empty")
        if message.get("parse_mode") != "HTML":
            return refuse(400, f"Bad Request: the fake expects parse_mode HTML, not {message.get('parse_mode')!r}")
        visible, problem = telegram_text(text)
        if problem:
            return refuse(400, f"Bad Request: {problem}")
        entry["visible"] = visible
        if not visible.strip():
            return refuse(400, "Bad Request: message text is empty")
        if utf16_length(visible) > 4096:
            return refuse(400, "Bad Request: message is too long")
        for flag in ("disable_web_page_preview", "disable_notification"):
            if flag in message and not isinstance(message[flag], bool):
                return refuse(400, f"Bad Request: {flag} must be a boolean")
        markup = message.get("reply_markup")
        if markup is not None:
            problem = keyboard_problem(markup)
            if problem:
                return refuse(400, f"Bad Request: {problem}")
        with lock:
            counters["message_id"] += 1
            message_id = counters["message_id"]
        chat_object = {"id": chat, "type": "private"} if isinstance(chat, int) else {"id": -1001234567890, "type": "channel", "username": str(chat).lstrip("@")}
        result = {"message_id": message_id, "date": int(time.time()), "chat": chat_object, "text": visible}
        return 200, {"ok": True, "result": result}, ()

    # Twilio

    def twilio(self, body, entry):
        def refuse(status, code, message):
            entry["problems"].append(message)
            return status, {"code": code, "message": message,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}, ()

        match = TWILIO_PATH.match(self.path)
        if not match:
            return refuse(404, 20404, f"The requested resource {self.path} was not found")
        sid, resource = match.groups()
        expected = "Basic " + base64.b64encode(f"{args.twilio_sid}:{args.twilio_token}".encode()).decode()
        if self.headers.get("Authorization") != expected or sid != args.twilio_sid:
            return refuse(401, 20003, "Authenticate")
        if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return refuse(400, 21604, "A 'To' phone number is required. (the body is not form-encoded)")
        try:
            parsed = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as error:
            return refuse(400, 21604, f"the form does not parse: {error}")
        if any(len(values) > 1 for values in parsed.values()):
            return refuse(400, 21604, "a parameter is given twice")
        form = {name: values[0] for name, values in parsed.items()}
        entry["form"] = form
        if not E164.match(form.get("To", "")):
            return refuse(400, 21211, f"Invalid 'To' Phone Number: {form.get('To')}")
        if not E164.match(form.get("From", "")):
            return refuse(400, 21212, f"Invalid From Number (caller ID): {form.get('From')}")
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        if resource == "Messages":
            text = form.get("Body", "")
            if not text:
                return refuse(400, 21602, "Message body is required.")
            service = form.get("MessagingServiceSid")
            if service is not None and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service):
                return refuse(400, 21701, f"The Messaging Service Sid {service} is invalid.")
            segments = sms_segments(text)
            entry["segments"] = segments
            if len(text) > 1600:
                return refuse(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
            if segments > 2:
                return refuse(400, 21617, f"The body takes {segments} segments; pages must fit in 2.")
            message_sid = "SM" + secrets.token_hex(16)
            return 201, {
                "sid": message_sid, "account_sid": sid, "to": form["To"], "from": form["From"],
                "messaging_service_sid": service, "body": text, "status": "queued",
                "num_segments": str(segments), "direction": "outbound-api", "api_version": "2010-04-01",
                "date_created": now, "date_updated": now, "date_sent": None, "price": None,
                "error_code": None, "error_message": None,
                "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            }, ()
        twiml = form.get("Twiml")
        if not twiml:
            return refuse(400, 21205, "Url or Twiml is required.")
        if len(twiml) > 4000:
            return refuse(400, 21205, "Twiml is longer than 4000 characters.")
        try:
            root = ElementTree.fromstring(twiml)
        except ElementTree.ParseError as error:
            return refuse(400, 12100, f"Document parse failure: {error}")
        if root.tag != "Response":
            return refuse(400, 12100, f"The root element must be <Response>, not <{root.tag}>")
        says = []
        for verb in root:
            if verb.tag == "Say":
                if len(verb) or not (verb.text or "").strip():
                    return refuse(400, 12200, "A <Say> must hold text only.")
                says.append(verb.text)
            elif verb.tag == "Pause":
                if not (verb.get("length") or "1").isdigit():
                    return refuse(400, 12200, "A <Pause>'s length must be a number of seconds.")
            else:
                return refuse(400, 12200, f"The fake expects <Say> and <Pause> only, not <{verb.tag}>")
        entry["says"] = says
        call_sid = "CA" + secrets.token_hex(16)
        return 201, {
            "sid": call_sid, "account_sid": sid, "to": form["To"], "from": form["From"],
            "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": now, "date_updated": now, "start_time": None, "duration": None,
            "uri": f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json",
        }, ()


def keyboard_problem(markup):
    """What is wrong with an inline keyboard of URL buttons, if anything."""
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not rows:
        return "reply_markup must be an inline keyboard"
    for row in rows:
        if not isinstance(row, list) or not row:
            return "an inline keyboard row must be a non-empty list"
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                return "a button needs text"
            if "callback_data" in button:
                return "the fake expects URL buttons only"
            if not str(button.get("url", "")).startswith(("http://", "https://")):
                return "BUTTON_URL_INVALID"
    return None


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--telegram-token", required=True)
    parser.add_argument("--twilio-sid", required=True)
    parser.add_argument("--twilio-token", required=True)
    parser.add_argument("--rate-limit-first", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as out:
        out.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
