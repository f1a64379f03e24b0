"""Nothing a client sends is amplified back or into the log, and every request gets exactly one
response: a refused value is quoted by its type, its size and its first characters; a request
with a bad envelope is answered -32600 with its id; a notification with one is logged briefly."""

import json
import logging

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from ponder.agent.quoting import listed, quoted
from ponder.agent.settings import defaults, from_wire
from ponder.server.logs import BoundedFormatter
from ponder.server.wire import ReasonParams, parse
from tests.wire import WireServer

HUGE = "a" * 100_000
URI = "file:///project/a.py"
KIB = 1024


def test_a_long_value_is_quoted_by_its_type_size_and_first_characters():
    assert quoted("short") == "'short'"
    text = quoted(HUGE)
    assert len(text) < 150 and text.startswith("a str of 100,000 characters: 'aaa")
    assert quoted(list(range(50_000))).startswith("a list of 50,000 items: [0, 1, 2")
    assert quoted({str(i): i for i in range(9_000)}).startswith("a dict of 9,000 keys: {'0': 0")
    assert listed([f"p{i}" for i in range(9)], most=3) == "p0; p1; p2; and 6 more"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"textDocument": {"uri": URI}, "range": HUGE}, "range"),
        ({"textDocument": {"uri": URI}, "range": {"start": {"line": HUGE, "character": 0}, "end": {"line": 0, "character": 0}}}, "range.start.line"),
        ({"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": HUGE}}, "range.end"),
        ({"textDocument": HUGE}, "textDocument"),
        (HUGE, "params"),
    ],
)  # fmt: skip
def test_a_refused_param_names_its_field_and_type_in_under_a_kib(params, field):
    with pytest.raises(JsonRpcInvalidParams) as refused:
        parse(ReasonParams, params)
    message = refused.value.message
    assert len(message.encode()) < KIB and field in message and "str of 100,000" in message


def test_a_refused_setting_and_a_flood_of_unknown_ones_stay_short():
    _, problems = from_wire({"reason": {"strategy": HUGE}}, base=defaults())
    assert len(problems) == 1 and len(problems[0]) < KIB
    assert "reason.strategy" in problems[0] and "str of 100,000" in problems[0]
    _, problems = from_wire({HUGE: 1, **{f"k{i}": i for i in range(5000)}}, base=defaults())
    told = listed(problems)
    assert len(told) < KIB and told.endswith("and 4996 more")


def test_a_log_record_of_any_size_is_bounded():
    record = logging.LogRecord(
        "pygls", logging.WARNING, "x", 1, 'Unknown message "%s"', (HUGE,), None
    )
    line = BoundedFormatter("%(levelname)s %(message)s").format(record)
    assert len(line) < KIB and line.startswith('WARNING Unknown message "aaa')


@pytest.fixture
def server(tmp_path):
    server = WireServer(tmp_path / "home")
    server.initialize()
    server.open(URI, "def f(x):\n    return x + 1\n")
    yield server
    server.close()


def answers(server) -> bool:
    reply = server.request("ponder/reason", {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 4}}, timeout=20)  # fmt: skip
    return bool(reply.get("result", {}).get("answer"))


def test_over_stdio_no_reply_message_or_log_line_quotes_a_huge_value(server):
    for params in (
        {"textDocument": {"uri": URI}, "range": HUGE},
        {"textDocument": {"uri": URI}, "range": {"start": {"line": HUGE, "character": 0}, "end": {"line": 0, "character": 0}}},
        {"textDocument": {"uri": "file:///" + HUGE}},
    ):  # fmt: skip
        reply = server.request("ponder/reason", params)
        assert reply["error"]["code"] == -32602, reply
        assert len(json.dumps(reply).encode()) < KIB, reply["error"]["message"][:200]
    for method in ("ponder/accept", "ponder/reject"):  # an answer id no answer has
        reply = server.request(method, {"id": HUGE})
        assert reply["error"]["code"] == -32602, reply
        assert len(json.dumps(reply).encode()) < KIB, reply["error"]["message"][:200]
        assert "unknown answer id" in reply["error"]["message"]
    server.notify("workspace/didChangeConfiguration", {"settings": {"reason": {"strategy": HUGE}}})
    server.notify(
        "workspace/didChangeConfiguration", {"settings": {f"k{i}": i for i in range(3000)}}
    )
    assert answers(server)
    told = [n for n in server.notifications if n["method"] == "window/showMessage"]
    assert len(told) == 2 and all(len(json.dumps(n).encode()) < KIB for n in told), told
    assert "reason.strategy" in told[0]["params"]["message"]
    assert "str of 100,000" in told[0]["params"]["message"]
    assert server.stderr and all(len(line.encode()) < KIB for line in server.stderr)


@pytest.mark.parametrize(
    "envelope",
    [
        {"jsonrpc": True},
        {"jsonrpc": None},
        {"jsonrpc": "1.0"},
        {"jsonrpc": 2},
        {},  # no "jsonrpc" at all
    ],
    ids=["true", "null", "1.0", "2", "missing"],
)
def test_over_stdio_a_request_with_a_bad_envelope_gets_invalid_request_with_its_id(
    server, envelope
):
    server.send({**envelope, "id": 77, "method": "ponder/status", "params": {}})
    reply = server.reply(77)
    assert reply["error"]["code"] == -32600 and '"jsonrpc"' in reply["error"]["message"], reply
    server.send({**envelope, "id": "str-id", "method": "ponder/status"})
    assert server.reply("str-id")["error"]["code"] == -32600
    assert answers(server)


def test_over_stdio_a_response_to_no_request_is_answered_and_a_bad_notification_ignored(server):
    server.send({"jsonrpc": "2.0", "id": 88, "result": None})  # ponder sent no request 88
    reply = server.reply(88)
    assert reply["error"]["code"] == -32600 and "no request" in reply["error"]["message"], reply
    server.send({"jsonrpc": "2.0", "id": 89})  # neither method nor result nor error
    assert server.reply(89)["error"]["code"] == -32600
    before = len(server.responses)
    server.send({"jsonrpc": "1.0", "method": "textDocument/didOpen", "params": HUGE})
    assert answers(server)
    assert len(server.responses) == before + 1  # the answer only: the notification got none
    logged = [line for line in server.stderr if '"jsonrpc" must be "2.0"' in line]
    assert logged and all(len(line.encode()) < KIB for line in logged), server.stderr[-3:]
