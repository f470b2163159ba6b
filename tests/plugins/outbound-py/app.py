"""A Python plugin that acts back on the sender, for the tests: the SDK's
``Handler.on_change`` and its request helpers, one case per change kind.
``outbound-js`` is the same plugin in JavaScript; both must answer alike
(``tests/sdk/outbound.test.mjs``, and the fixtures in ``tests/sdk/fixtures``).

``handle`` takes ``{"id", "status": "firing" | "resolved", "comment"}``
and ignores a request whose ``comment`` carries the host's marker (the
sender echoing a note this plugin sent). ``on_change``, with the
setting ``base`` (default ``/api``) before each path:

- accepted: PUT ``{base}/tickets/{key}`` ``{"note": "Accepted by {by} [{marker}]"}``,
  then POST ``{base}/silences``, the answer remembered as ``silence-{key}``
- noted: POST ``{base}/tickets/{key}/comments`` ``{"text", "incident", "marker"}``,
  remembered as ``comment-{key}``; a note ``write`` tries a host API write
  (which fails here) instead
- resolved: DELETE ``{base}/silences/{the id remembered as silence-{key}}``
  when one is, then PATCH ``{base}/tickets/{key}`` with a text body
- escalation-exhausted: fails with "nobody is on call at the sender"
- held-for-maintenance: nothing (returns None)
"""

import json

import inbound_sdk as sdk
from wit_world.imports import incidents, state


class About(sdk.About):
    name = "test-outbound-py"
    version = "0.1.0"
    description = "Acts back on the sender, for the tests."
    settings = [sdk.setting("base", sdk.SettingKind.TEXT, "Put before every path (default: /api).")]


class Handler(sdk.Plugin):
    def on_request(self, request):
        body = sdk.parse_json(request.body)
        key = sdk.str_field(body, "", "id")
        comment = sdk.opt_str_field(body, "", "comment") or ""
        if sdk.carries_marker(comment):
            sdk.info(f"{key}: our own note came back; nothing to do")
            return []
        if sdk.str_field(body, "", "status") == "resolved":
            resolved = sdk.resolve_open(key)
            return [sdk.outcome(*resolved)] if resolved else []
        action, incident = sdk.open_or_create(sdk.new_incident(key, f"Ticket {key}"))
        return [sdk.outcome(action, incident)]

    def on_change(self, change, incident, settings):
        base = json.loads(settings or "{}").get("base", "/api")
        ticket = f"{base}/tickets/{incident.key}"
        sdk.info(f"{incident.key}: {sdk.word(change.kind)} by {change.by}")
        if change.kind == sdk.ChangeKind.ACCEPTED:
            matchers = [{"name": "ticket", "value": incident.key}]
            silence = {"matchers": matchers, "comment": change.marker}
            return [
                sdk.put_json(ticket, {"note": f"Accepted by {change.by} [{change.marker}]"}),
                sdk.post_json(f"{base}/silences", silence, remember_as=f"silence-{incident.key}"),
            ]
        if change.kind == sdk.ChangeKind.NOTED:
            if change.text == "write":
                incidents.comment(incident.id, None, "not allowed here")
            body = {"text": change.text, "incident": incident.id, "marker": change.marker}
            remember = f"comment-{incident.key}"
            return [sdk.post_json(f"{ticket}/comments", body, remember_as=remember)]
        if change.kind == sdk.ChangeKind.RESOLVED:
            requests = []
            silence = state.get(f"silence-{incident.key}")
            if silence is not None:
                silence_id = json.loads(silence)["silenceID"]
                requests.append(sdk.delete(f"{base}/silences/{silence_id}"))
            requests.append(
                sdk.request(
                    sdk.Method.PATCH,
                    ticket,
                    f"closed by {change.by}".encode(),
                    [("content-type", "text/plain")],
                )
            )
            return requests
        if change.kind == sdk.ChangeKind.ESCALATION_EXHAUSTED:
            raise sdk.OutboundError("nobody is on call at the sender")
        return None
