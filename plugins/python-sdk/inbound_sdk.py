"""The Python SDK for inbound plugins: the same helpers as the Rust SDK.

A plugin is a module (``app.py``) that defines ``class Handler(inbound_sdk.Plugin)``
with one method, ``on_request(self, request) -> list[Outcome]``, and
``class About(inbound_sdk.About)``: its name, version and the settings a source
of it accepts. componentize-py builds it into a WebAssembly component against
the WIT in ``wit/``::

    import inbound_sdk as sdk

    class About(sdk.About):
        name = "my-alerts"
        version = "0.1.0"
        settings = [sdk.setting("team", sdk.SettingKind.TEXT, "Named in every summary.")]

    class Handler(sdk.Plugin):
        def on_request(self, request):
            body = sdk.parse_json(request.body)              # 400 invalid-json, with line and column
            key = sdk.str_field(body, "", "id")              # 400 "the field `id` is missing; expected a string"
            action, incident = sdk.open_or_create(sdk.new_incident(key, "Disk full"))
            sdk.info(f"{key}: {sdk.word(action)}")
            return [sdk.outcome(action, incident)]

Raise ``Rejection`` (or use the field readers, which raise it) for a request the
sender got wrong: the host answers 400 with its message and applies nothing.
Any other exception fails the call (5xx, nothing applied, the event kept for
replay) and its traceback reaches the operator.

To act back on the sender when a person accepts, resolves or notes one of the
source's incidents (API 0.5.0), give ``Handler`` an ``on_change`` method that
returns requests built with ``put_json``, ``post_json``, ``delete`` or
``request``; without one, nothing is sent (see ``Plugin.on_change``).
"""

import decimal
import json
import math
import re
import sys
from typing import Any, List, Optional, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import about as about_types
from wit_world.exports import outbound as outbound_types
from wit_world.imports import incidents, log, types

# The plugin API the bindings in wit/ were generated from.
API_VERSION = "0.5.0"

Action = types.Action
Incident = types.Incident
Link = types.Link
NewIncident = types.NewIncident
Outcome = types.Outcome
Priority = types.Priority
Request = types.Request
Setting = about_types.Setting
SettingKind = about_types.SettingKind
Change = outbound_types.Change
ChangeKind = outbound_types.ChangeKind
Method = outbound_types.Method
OutboundRequest = outbound_types.OutboundRequest


class Rejection(Exception):
    """The sender's mistake: the host answers 400 {"error": {code, message}}."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @staticmethod
    def missing_field(path: str, expected: str) -> "Rejection":
        return Rejection("missing-field", f"the field `{path}` is missing; expected {expected}")

    @staticmethod
    def invalid_field(path: str, why: str) -> "Rejection":
        return Rejection("invalid-field", f"the field `{path}` {why}")

    @staticmethod
    def invalid_settings(why: str) -> "Rejection":
        return Rejection(
            "invalid-settings", f"the source's settings in config.toml are invalid: {why}"
        )


class Plugin(exports.Handler):
    """Base class of a plugin's ``Handler``: turns a ``Rejection`` into the
    host's 400, a host API error into a ``host-api-error`` rejection (the
    plugin's bug; nothing is applied), and any other exception into a failed
    call whose traceback the operator sees.

    Defining it also gives its module the ``outbound`` export, ``Outbound``
    (unless the module defines one), which calls ``Handler.on_change``: a
    plugin that does not act back on the sender needs nothing more."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        module = sys.modules.get(cls.__module__)
        if module is not None and "Outbound" not in vars(module):
            module.Outbound = _outbound_export(module)

    def on_request(self, request: Request) -> List[Outcome]:
        raise NotImplementedError("define on_request in your Handler")

    def on_change(
        self, change: Change, incident: Incident, settings: str
    ) -> Optional[List[OutboundRequest]]:
        """What to send the sender's API after ``change`` (a person's accept,
        resolve or note; escalation exhausted; a maintenance window) to
        ``incident`` (as it is now); ``settings`` is the source's settings
        table as JSON text. Put ``change.marker`` into whatever the sender will
        send back, so ``on_request`` can recognise the echo
        (``carries_marker``). Called only for sources with a
        ``[sources.outbound]`` table; the host API only reads here.

        Return at most 8 requests, sent in order; ``[]`` or ``None`` sends
        nothing. Raise ``OutboundError("why")`` to fail the attempt with
        that text, logged on the incident; any other exception fails it with
        its traceback. The default sends nothing."""
        return []

    def handle(self, request: Request) -> List[Outcome]:
        try:
            return self.on_request(request)
        except Rejection as rejection:
            raise Err(types.Rejection(rejection.code, rejection.message))
        except Err as error:
            if isinstance(error.value, types.Rejection):
                raise
            raise Err(types.Rejection("host-api-error", describe_api_error(error.value)))
        # Any other exception propagates: componentize-py prints its
        # traceback to stderr, which the host puts in the failure it reports.


# --- Acting back on the sender (API 0.5.0) -----------------------------------


class OutboundError(Exception):
    """Why ``on_change`` cannot say what to send: the attempt fails and the
    message is logged on the incident."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _outbound_export(module: Any) -> type:
    """The ``Outbound`` export of a plugin module: calls ``on_change`` of the
    module's ``Handler``, looked up at each call."""

    class Outbound(exports.Outbound):
        def on_change(
            self, change: Change, incident: Incident, settings: str
        ) -> List[OutboundRequest]:
            return call_on_change(getattr(module, "Handler")(), change, incident, settings)

    Outbound.__module__ = module.__name__
    return Outbound


def call_on_change(
    plugin: "Plugin", change: Change, incident: Incident, settings: str
) -> List[OutboundRequest]:
    """``plugin.on_change`` as the ``outbound`` export answers it: ``None`` is
    nothing to send; an ``OutboundError`` or a host API error (a write here)
    fails the attempt with its text; any other exception propagates (its
    traceback reaches the operator)."""
    try:
        return list(plugin.on_change(change, incident, settings) or [])
    except OutboundError as failure:
        raise Err(failure.message)
    except Err as error:
        if isinstance(error.value, str):
            raise
        raise Err(f"host API error: {describe_api_error(error.value)}")


def request(
    method: Method,
    path: str,
    body: bytes = b"",
    headers: Optional[List[Tuple[str, str]]] = None,
    remember_as: Optional[str] = None,
) -> OutboundRequest:
    """One request to the sender's API: ``path`` (and query) on the origin the
    operator configured, starting with one ``/``. ``remember_as``: after a
    2xx answer, the host keeps its body in the source's state under that key,
    for a later call to read (``state.get``): the id of what it created."""
    return OutboundRequest(method, path, list(headers or []), bytes(body), remember_as)


def json_request(
    method: Method, path: str, body: Any, remember_as: Optional[str] = None
) -> OutboundRequest:
    """A request carrying ``body`` as JSON (``content-type: application/json``)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return request(
        method,
        path,
        text.encode("utf-8"),
        [("content-type", "application/json")],
        remember_as,
    )


def post_json(path: str, body: Any, remember_as: Optional[str] = None) -> OutboundRequest:
    return json_request(Method.POST, path, body, remember_as)


def put_json(path: str, body: Any, remember_as: Optional[str] = None) -> OutboundRequest:
    return json_request(Method.PUT, path, body, remember_as)


def delete(path: str, remember_as: Optional[str] = None) -> OutboundRequest:
    return request(Method.DELETE, path, remember_as=remember_as)


# The host's marker: ``inbound-<incident>-<n>``.
_MARKER = re.compile(r"inbound-[0-9]+-[0-9]")


def carries_marker(text: str) -> bool:
    """Whether ``text`` carries a marker the host gave an ``on_change`` call
    (``inbound-<incident>-<n>``): the sender is echoing what this plugin
    sent, and ``on_request`` should change nothing for it."""
    return _MARKER.search(text) is not None


# --- What the plugin says about itself ---------------------------------------


def setting(name: str, kind: SettingKind, description: str, required: bool = False) -> Setting:
    """One key a source's ``settings`` table may hold; ``description`` is one
    sentence for the operator: what it changes, and the default."""
    return Setting(name, kind, required, description)


class About(exports.About):
    """Base class of a plugin's ``About``: the host asks it when it starts or
    reloads and refuses a source whose settings it does not take, so a
    misspelt setting stops the start instead of failing every webhook.

    Set ``name``, ``version`` and ``description``; list ``settings`` (the
    host then refuses unknown keys, values of another kind and missing
    required ones; ``None`` says nothing and lets any key through); override
    ``check_settings`` to judge the values. Neither may use the host API."""

    name = "plugin"
    version = "0.1.0"
    description = ""
    settings: Optional[List[Setting]] = None

    def check_settings(self, settings: dict) -> List[Tuple[Optional[str], str]]:
        """Problems with a source's settings, as ``(setting or None, message)``."""
        return []

    def describe(self) -> about_types.PluginInfo:
        return about_types.PluginInfo(self.name, self.version, self.description, self.settings)

    def validate_settings(self, settings: str) -> None:
        problems = self.check_settings(json.loads(settings or "{}"))
        if problems:
            raise Err([about_types.SettingsProblem(key, message) for key, message in problems])


def describe_api_error(error: Any) -> str:
    if isinstance(error, types.ApiError_NotFound):
        return f"incident {error.value} not found"
    if isinstance(error, types.ApiError_Invalid):
        return f"invalid call: {error.value}"
    if isinstance(error, types.ApiError_LimitExceeded):
        return f"limit exceeded: {error.value}"
    return repr(error)


# --- JSON ------------------------------------------------------------------


def parse_json(body: bytes) -> Any:
    """The body as JSON. Raw control characters inside strings (template-built
    JSON has them) are accepted; anything else malformed is a 400
    ``invalid-json`` that gives the line and column."""
    if not body.strip():
        raise Rejection("empty-body", "the request body is empty; expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejection(
            "invalid-json",
            f"the request body is not valid UTF-8 (at byte {error.start}); JSON must be sent as UTF-8",
        )
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as error:
        raise Rejection(
            "invalid-json",
            f"the request body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        )


def parse_settings(request: Request) -> dict:
    """The source's ``settings`` table from config.toml. Read it before the
    body: ``inbound check`` calls the plugin with the settings and an empty
    body, and an ``invalid-settings`` rejection fails the check."""
    try:
        settings = json.loads(request.settings or "{}")
    except json.JSONDecodeError as error:
        raise Rejection.invalid_settings(error.msg)
    if not isinstance(settings, dict):
        raise Rejection.invalid_settings("expected a table")
    return settings


def path(at: str, field: str) -> str:
    """``alerts[2]`` + ``status`` -> ``alerts[2].status``."""
    return f"{at}.{field}" if at else field


def index(at: str, position: int) -> str:
    return f"{at}[{position}]"


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# The readers below are the Rust SDK's, with the same semantics (a null field
# is a missing one); tests/sdk/readers.json holds the cases all three SDKs'
# tests run. docs/plugin-guide.md, "Reading the request", has the table.


def _field(obj: Any, at: str, field: str, expected: str, required: bool) -> Any:
    if not isinstance(obj, dict):
        raise Rejection.invalid_field(at or "(body)", f"is {kind(obj)}; expected an object")
    value = obj.get(field)
    if value is None and required:
        raise Rejection.missing_field(path(at, field), expected)
    return value


def _wrong_kind(at: str, field: str, value: Any, expected: str) -> Rejection:
    return Rejection.invalid_field(path(at, field), f"is {kind(value)}; expected {expected}")


def str_field(obj: Any, at: str, field: str) -> str:
    """A required string field; the rejection names its path."""
    value = _field(obj, at, field, "a string", True)
    if not isinstance(value, str):
        raise _wrong_kind(at, field, value, "a string")
    return value


def opt_str_field(obj: Any, at: str, field: str) -> Optional[str]:
    """An optional string field: None when missing or null."""
    value = _field(obj, at, field, "a string", False)
    if value is not None and not isinstance(value, str):
        raise _wrong_kind(at, field, value, "a string")
    return value


def list_field(obj: Any, at: str, field: str) -> list:
    """A required array field."""
    value = _field(obj, at, field, "an array", True)
    if not isinstance(value, list):
        raise _wrong_kind(at, field, value, "an array")
    return value


def opt_object_field(obj: Any, at: str, field: str) -> Optional[dict]:
    """An optional object field: None when missing or null."""
    value = _field(obj, at, field, "an object", False)
    if value is not None and not isinstance(value, dict):
        raise _wrong_kind(at, field, value, "an object")
    return value


def _is_number(value: Any) -> bool:
    # bool is an int in Python; in JSON it is not a number.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, at: str, field: str) -> float:
    if not _is_number(value):
        raise _wrong_kind(at, field, value, "a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Rejection.invalid_field(
            path(at, field), f"is {_number_text(value)}; expected a finite number"
        )
    return number


def number_field(obj: Any, at: str, field: str) -> float:
    """A required number field, integer or not, as a float."""
    return _number(_field(obj, at, field, "a number", True), at, field)


def opt_number_field(obj: Any, at: str, field: str) -> Optional[float]:
    """An optional number field: None when missing or null."""
    value = _field(obj, at, field, "a number", False)
    return None if value is None else _number(value, at, field)


# The largest integer every SDK reads exactly: JavaScript's JSON.parse rounds
# larger ones, so all three SDKs refuse them.
MAX_EXACT_INTEGER = 2**53 - 1


def _integer(value: Any, at: str, field: str) -> int:
    if not _is_number(value):
        raise _wrong_kind(at, field, value, "an integer")
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        raise Rejection.invalid_field(
            path(at, field), f"is {_number_text(value)}, which has a fraction; expected an integer"
        )
    if not (isinstance(value, int) or math.isfinite(value)) or abs(value) > MAX_EXACT_INTEGER:
        raise Rejection.invalid_field(
            path(at, field),
            f"is {_number_text(value)}, beyond ±{MAX_EXACT_INTEGER}; expected an integer",
        )
    return int(value)  # -0.0 is 0


def integer_field(obj: Any, at: str, field: str) -> int:
    """A required integer field: a number without a fraction (``3.0`` and
    ``3e2`` count), from -(2**53 - 1) to 2**53 - 1 (``MAX_EXACT_INTEGER``)."""
    return _integer(_field(obj, at, field, "an integer", True), at, field)


def opt_integer_field(obj: Any, at: str, field: str) -> Optional[int]:
    """An optional integer field: None when missing or null."""
    value = _field(obj, at, field, "an integer", False)
    return None if value is None else _integer(value, at, field)


def bool_field(obj: Any, at: str, field: str) -> bool:
    """A required boolean field: ``true`` or ``false``, nothing else."""
    value = _field(obj, at, field, "a boolean", True)
    if not isinstance(value, bool):
        raise _wrong_kind(at, field, value, "a boolean")
    return value


def opt_bool_field(obj: Any, at: str, field: str) -> Optional[bool]:
    """An optional boolean field: None when missing or null."""
    value = _field(obj, at, field, "a boolean", False)
    if value is not None and not isinstance(value, bool):
        raise _wrong_kind(at, field, value, "a boolean")
    return value


def string_or_number(obj: Any, field: str) -> Optional[str]:
    """A field senders may send as a JSON string or a number, as text: a
    string as it is, ``true`` or ``false``, an integer as its digits, any other
    number as JavaScript writes it (``3.0`` is ``"3"``). None when the field
    is missing or null, an array or an object, or when ``obj`` is not an
    object."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(field)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _number_text(value)
    return None


def text_field(obj: Any, field: str) -> str:
    """An optional string field; numbers and booleans are turned into text
    (``string_or_number``), anything else is ``""``."""
    text = string_or_number(obj, field)
    return "" if text is None else text


def _number_text(value: Any) -> str:
    """An integer that fits in 64 bits as its digits (as the Rust SDK reads
    it); any other number as JavaScript's ``String(n)`` writes it."""
    if isinstance(value, int):
        if -(2**63) <= value < 2**64:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    # repr gives the shortest digits that read back as the same float.
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), len(digits) + exponent
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if n > 0 else '-'}{abs(n - 1)}"
    return "-" + text if value < 0 else text


def header(request: Request, name: str) -> Optional[str]:
    """The value of the first header called ``name``, in any case; None when
    there is none. ``request.headers`` is a list of ``(name, value)`` pairs,
    names in lower case, in the order received."""
    wanted = name.lower()
    for key, value in request.headers:
        if key.lower() == wanted:
            return value
    return None


# --- Incidents ---------------------------------------------------------------


def new_incident(
    key: str,
    summary: str,
    details: str = "",
    priority: Optional[Priority] = None,
    url: Optional[str] = None,
    links: Optional[List[Tuple[str, str]]] = None,
) -> NewIncident:
    """What a plugin supplies to open an incident; ``links`` are (label, url)."""
    return NewIncident(
        key, summary, details, priority, url, [Link(label, target) for label, target in links or []]
    )


def open_or_create(new: NewIncident) -> Tuple[Action, Incident]:
    """The open incident for ``new.key``, untouched, or a new one: what a
    "problem" event does. Safe to deliver twice."""
    found = incidents.find_open(new.key)
    if found is not None:
        return Action.UNCHANGED, found
    return Action.CREATED, incidents.create(new)


def resolve_open(key: str, note: Optional[str] = None) -> Optional[Tuple[Action, Incident]]:
    """Resolves the open incident for ``key``: what a "recovery" event does.
    None when nothing is open (already resolved, or never raised)."""
    found = incidents.find_open(key)
    if found is None:
        return None
    return Action.RESOLVED, incidents.resolve(found.id, note)


def update_incident(
    incident_id: int,
    summary: Optional[str] = None,
    details: Optional[str] = None,
    priority: Optional[Priority] = None,
) -> Incident:
    """Changes an open incident's summary, details or priority (API 0.4.0);
    what is None stays. Changing nothing changes and logs nothing; report
    a real change as ``Action.COMMENTED``. A resolved incident raises
    ``invalid``."""
    return incidents.update(incident_id, incidents.IncidentUpdate(summary, details, priority))


def outcome(action: Action, incident: Incident) -> Outcome:
    return Outcome(action, incident.id)


def word(value: Any) -> str:
    """``created``, not ``Action.CREATED``; ``escalation-exhausted``, not
    ``ChangeKind.ESCALATION_EXHAUSTED``: as the host's answers and logs say
    it. Any of the WIT's enums."""
    return value.name.lower().replace("_", "-")


def is_web_url(url: str) -> bool:
    """True for an http(s) URL with a host and no whitespace: what the host
    accepts as an incident's url or link."""
    lower = url.lower()
    for scheme in ("http://", "https://"):
        if lower.startswith(scheme):
            rest = url[len(scheme):]
            host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            return bool(host) and not any(c.isspace() or ord(c) < 32 for c in url)
    return False


# --- Log ---------------------------------------------------------------------


def trace(message: str) -> None:
    log.log(log.Level.TRACE, message)


def debug(message: str) -> None:
    log.log(log.Level.DEBUG, message)


def info(message: str) -> None:
    log.log(log.Level.INFO, message)


def warn(message: str) -> None:
    log.log(log.Level.WARN, message)


def error(message: str) -> None:
    log.log(log.Level.ERROR, message)
