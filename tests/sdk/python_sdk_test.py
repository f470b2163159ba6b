"""Unit tests of the Python SDK's (``plugins/python-sdk``) field readers and outbound helpers,
run natively against the bindings ``componentize-py bindings`` generates from
``plugins/sdk/wit`` (their host functions raise ``NotImplementedError``; the
tests replace the ones they need). ``make sdk-test`` generates them and runs
this file, with both on ``PYTHONPATH``; ``outbound.test.mjs`` tests
components built with the SDK. Not beside the SDK: componentize-py would
pack it into every component built from that folder."""

import json
import math
import pathlib
import re
import sys
import types
import unittest

import inbound_sdk as sdk
from componentize_py_types import Err
from wit_world.imports import incidents
from wit_world.imports import types as wit_types

WIT = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "sdk" / "wit" / "plugin.wit"
# The readers' cases shared with the Rust and JavaScript SDKs' tests.
READER_CASES = json.loads((pathlib.Path(__file__).parent / "readers.json").read_text())

CHANGE = sdk.Change(sdk.ChangeKind.ACCEPTED, "ada", None, 1, "inbound-42-17")
INCIDENT = wit_types.Incident(
    42, "T-1", wit_types.IncidentStatus.ACCEPTED, "s", "", None, None, [], 1, 2
)


def plugin_module(source: str) -> types.ModuleType:
    """A plugin module (as componentize-py imports ``app``) from its source."""
    name = f"app_{len(sys.modules)}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def read(call: str, value, at: str, field: str):
    """What the reader called ``call`` gives for ``field`` of ``value``."""
    if call == "header":
        request = sdk.Request("source", [tuple(pair) for pair in value["headers"]], b"", "{}")
        return sdk.header(request, field)
    if call in ("string_or_number", "text_field"):
        return getattr(sdk, call)(value, field)
    return getattr(sdk, call)(value, at, field)


# The Python type each reader gives (besides None).
READ_TYPES = {
    "number_field": float,
    "opt_number_field": float,
    "integer_field": int,
    "opt_integer_field": int,
    "bool_field": bool,
    "opt_bool_field": bool,
}


class Readers(unittest.TestCase):
    def test_readers_agree_with_the_shared_cases(self):
        self.assertGreater(len(READER_CASES), 100)
        for case in READER_CASES:
            with self.subTest(case=case):
                at, expect = case.get("at", ""), case["expect"]
                if isinstance(expect, dict) and set(expect) == {"error"}:
                    with self.assertRaises(sdk.Rejection) as raised:
                        read(case["call"], case["input"], at, case["field"])
                    self.assertIn(expect["error"], raised.exception.message)
                    continue
                got = read(case["call"], case["input"], at, case["field"])
                self.assertEqual(got, expect)
                if got is not None and case["call"] in READ_TYPES:
                    self.assertIs(type(got), READ_TYPES[case["call"]])

    def test_a_null_object_field_is_none_and_a_nested_object_is_read_the_same(self):
        body = sdk.parse_json(b'{"monitor": {"id": 3, "name": "db"}, "heartbeat": null}')
        self.assertIsNone(sdk.opt_object_field(body, "", "heartbeat"))
        monitor = sdk.opt_object_field(body, "", "monitor")
        self.assertEqual(sdk.integer_field(monitor, "monitor", "id"), 3)
        self.assertEqual(sdk.text_field(monitor, "id"), "3")

    def test_what_only_python_parses_is_refused_too(self):
        # json.loads reads 1e400 as inf, and NaN; the Rust SDK refuses both
        # while parsing, JavaScript's JSON.parse refuses NaN.
        body = sdk.parse_json(b'{"big": 1e400, "nan": NaN, "huge": ' + b"9" * 400 + b"}")
        for field in ("big", "nan", "huge"):
            with self.assertRaises(sdk.Rejection) as raised:
                sdk.number_field(body, "", field)
            self.assertIn(f"`{field}` is", raised.exception.message)
            with self.assertRaises(sdk.Rejection):
                sdk.integer_field(body, "", field)
        self.assertEqual(sdk.string_or_number(body, "big"), "Infinity")
        self.assertTrue(math.isinf(body["big"]))

    def test_numbers_are_written_as_javascript_writes_them(self):
        for number, text in [
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (123.456, "123.456"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (2**64 - 1, "18446744073709551615"),
            (-(2**63), "-9223372036854775808"),
        ]:
            self.assertEqual(sdk.string_or_number({"n": number}, "n"), text)


class Markers(unittest.TestCase):
    def test_markers_are_recognised_inside_text(self):
        self.assertTrue(sdk.carries_marker("Accepted in inbound by ada [inbound-42-17]"))
        self.assertTrue(sdk.carries_marker("inbound-1-2"))
        self.assertFalse(sdk.carries_marker("inbound-42 was mentioned"))
        self.assertFalse(sdk.carries_marker("inbound-x-1"))
        self.assertFalse(sdk.carries_marker("inbound-42-"))
        self.assertFalse(sdk.carries_marker("a note from a person"))


class Requests(unittest.TestCase):
    def test_json_requests_say_their_content_type(self):
        put = sdk.put_json("/x", {"a": 1})
        self.assertEqual(put.method, sdk.Method.PUT)
        self.assertEqual(put.path, "/x")
        self.assertEqual(put.headers, [("content-type", "application/json")])
        self.assertEqual(put.body, b'{"a":1}')
        self.assertIsNone(put.remember_as)
        post = sdk.post_json("/y", {"note": "é"}, remember_as="k")
        self.assertEqual((post.method, post.remember_as), (sdk.Method.POST, "k"))
        self.assertEqual(post.body, '{"note":"é"}'.encode())
        self.assertEqual(sdk.json_request(sdk.Method.PATCH, "/z", None).body, b"null")

    def test_delete_and_request_build_what_the_wit_expects(self):
        self.assertEqual(
            sdk.delete("/y", remember_as="k"),
            sdk.OutboundRequest(sdk.Method.DELETE, "/y", [], b"", "k"),
        )
        patch = sdk.request(sdk.Method.PATCH, "/t", b"closed", [("content-type", "text/plain")])
        self.assertEqual(
            patch,
            sdk.OutboundRequest(sdk.Method.PATCH, "/t", [("content-type", "text/plain")], b"closed", None),
        )

    def test_change_kinds_are_words_as_the_host_says_them(self):
        self.assertEqual(sdk.word(sdk.ChangeKind.ESCALATION_EXHAUSTED), "escalation-exhausted")
        self.assertEqual(sdk.word(sdk.ChangeKind.HELD_FOR_MAINTENANCE), "held-for-maintenance")
        self.assertEqual(sdk.word(sdk.Action.CREATED), "created")


PLUGIN = """
import inbound_sdk as sdk

class Handler(sdk.Plugin):
    def on_request(self, request):
        return []
"""


class OnChange(unittest.TestCase):
    def test_a_plugin_without_on_change_sends_nothing(self):
        app = plugin_module(PLUGIN)
        self.assertEqual(app.Outbound().on_change(CHANGE, INCIDENT, "{}"), [])

    def test_the_handlers_on_change_answers(self):
        app = plugin_module(
            PLUGIN
            + """
    def on_change(self, change, incident, settings):
        if change.kind == sdk.ChangeKind.ACCEPTED:
            return [sdk.put_json(f"/t/{incident.key}", {"note": change.marker, "settings": settings})]
        return None
"""
        )
        [request] = app.Outbound().on_change(CHANGE, INCIDENT, '{"base":"/v2"}')
        self.assertEqual(request.path, "/t/T-1")
        self.assertEqual(request.body, b'{"note":"inbound-42-17","settings":"{\\"base\\":\\"/v2\\"}"}')
        noted = sdk.Change(sdk.ChangeKind.NOTED, "ada", "hi", 1, "inbound-42-18")
        self.assertEqual(app.Outbound().on_change(noted, INCIDENT, "{}"), [], "None sends nothing")

    def test_the_handler_is_looked_up_at_each_call(self):
        app = plugin_module(PLUGIN)

        class Replaced(sdk.Plugin):
            def on_change(self, change, incident, settings):
                return [sdk.delete("/replaced")]

        app.Handler = Replaced
        self.assertEqual(app.Outbound().on_change(CHANGE, INCIDENT, "{}")[0].path, "/replaced")

    def test_a_module_that_defines_outbound_keeps_it(self):
        app = plugin_module(
            """
import inbound_sdk as sdk

class Outbound:
    def on_change(self, change, incident, settings):
        return ["its own"]

class Handler(sdk.Plugin):
    pass
"""
        )
        self.assertEqual(app.Outbound().on_change(CHANGE, INCIDENT, "{}"), ["its own"])

    def test_an_outbound_error_is_the_calls_error_its_message_the_text(self):
        app = plugin_module(
            PLUGIN
            + """
    def on_change(self, change, incident, settings):
        raise sdk.OutboundError("the ticket is closed")
"""
        )
        with self.assertRaises(Err) as raised:
            app.Outbound().on_change(CHANGE, INCIDENT, "{}")
        self.assertEqual(raised.exception.value, "the ticket is closed")

    def test_a_host_api_error_becomes_the_error_text(self):
        app = plugin_module(
            PLUGIN
            + """
    def on_change(self, change, incident, settings):
        from wit_world.imports import incidents
        incidents.comment(incident.id, None, "x")
        return []
"""
        )

        def comment(*_):
            raise Err(wit_types.ApiError_Invalid("read only"))

        original, incidents.comment = incidents.comment, comment
        try:
            with self.assertRaises(Err) as raised:
                app.Outbound().on_change(CHANGE, INCIDENT, "{}")
        finally:
            incidents.comment = original
        self.assertEqual(raised.exception.value, "host API error: invalid call: read only")

    def test_any_other_exception_propagates(self):
        app = plugin_module(
            PLUGIN
            + """
    def on_change(self, change, incident, settings):
        raise TypeError("a bug")
"""
        )
        with self.assertRaises(TypeError):
            app.Outbound().on_change(CHANGE, INCIDENT, "{}")


class Version(unittest.TestCase):
    def test_the_sdk_says_the_api_version_of_the_wit_it_builds_against(self):
        version = re.search(r"^package inbound:plugin@([0-9.]+);$", WIT.read_text(), re.M)
        self.assertEqual(sdk.API_VERSION, version.group(1))


if __name__ == "__main__":
    unittest.main()
