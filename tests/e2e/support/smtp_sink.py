#!/usr/bin/env python3
"""A real SMTP server for the notification tests (aiosmtpd): appends each
message it accepts to a file as one JSON line {mail_from, rcpt_tos, data}.

    smtp_sink.py PORT LOG_FILE"""

import email
import email.policy
import json
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "text": body.get_content() if body is not None else "",
        }
        with open(self.path, "a") as log:
            log.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(path), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
