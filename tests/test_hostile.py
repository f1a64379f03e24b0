"""Hostile and malformed input over the raw wire (scripted engine): always a clear reply, never
an internal error, and the server goes on answering."""

import pytest

from tests.wire import WireServer

CODE = "def f(x):\n    return x + 1\n"
URI = "file:///project/a.py"


@pytest.fixture
def server(tmp_path):
    server = WireServer(tmp_path / "home")
    yield server
    server.close()


def reason(server, params, timeout=20.0):
    return server.request("ponder/reason", params, timeout=timeout)


def assert_answers(server):
    reply = reason(server, {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 4}})
    assert "result" in reply, reply
    assert reply["result"]["answer"]


def test_reason_before_initialize_is_a_clear_error(server):
    reply = reason(server, {"textDocument": {"uri": URI}})
    assert reply["error"]["code"] != -32603, reply
    server.initialize()
    server.open(URI, CODE)
    assert_answers(server)


def test_wrong_shapes_are_invalid_params_not_internal_errors(server):
    server.initialize()
    server.open(URI, CODE)
    cases = [
        ("ponder/accept", "x"),
        ("ponder/accept", [1, 2]),
        ("ponder/reject", {"id": {"a": 1}}),
        ("ponder/reason", {"textDocument": {"uri": URI}, "workDoneToken": {}}),
        ("ponder/reason", {"textDocument": {"uri": URI}, "options": {"topP": 1e308 * 10}}),
        ("ponder/reason", {"textDocument": {"uri": URI}, "options": {"samples": 10**400}}),
    ]
    for method, params in cases:
        reply = server.request(method, params)
        assert reply.get("error", {}).get("code") == -32602, (method, params, reply)
    assert_answers(server)
    assert not server.tracebacks(), "".join(server.stderr)


def test_lone_surrogates_and_odd_line_breaks_are_answered(server):
    server.initialize()
    text = "s = '\ud800'\f\u2028\ndef g(y):\n    return y * 2\n"
    server.open("file:///project/b.py", text)
    reply = reason(
        server,
        {
            "textDocument": {"uri": "file:///project/b.py"},
            "position": {"line": 2, "character": 4},
            "question": "what about \udfff?",
        },
    )
    assert "result" in reply, reply
    assert not server.tracebacks(), "".join(server.stderr)


def test_broken_framing_never_deafens_or_kills_the_server(server):
    server.initialize()
    server.open(URI, CODE)
    status = b'{"jsonrpc": "2.0", "id": 7, "method": "ponder/status", "params": {}}'
    broken = [
        b"Content-Length: 100000000000\r\n\r\n{}",
        b"Content-Length: 20000000000000000000\r\n\r\n",
        b"Content-Length: -5\r\n\r\n{}",
        b"content-length: %d\n\n" % len(status) + status,  # lowercase, LF-only: accepted
        b"Content-Length: %d \r\n\r\n" % len(status) + status,  # trailing space: accepted
        b"Content-Length: 3\r\n\r\n" + status,  # wrong length: garbage, then resynchronised
        b"garbage without a header\r\n",
    ]
    for data in broken:
        server.send_bytes(data)
        reply = server.request("ponder/status", {}, timeout=10)
        assert "result" in reply, (data, reply)
    assert server.alive()


def test_every_request_gets_a_reply(server):
    reply = server.request("ponder/status", {})
    assert reply["error"]["code"] == -32002  # before initialize
    server.initialize()
    server.open(URI, CODE)
    assert server.request("initialize", {"capabilities": {}})["error"]["code"] == -32600
    assert "result" in server.request("ponder/status")  # no params member
    nested = {"textDocument": {"uri": URI, "extra": {"jsonrpc": "2.0", "id": 5}}}
    assert "result" in reason(server, nested)  # a nested "jsonrpc" key is just data
    deep = '{"a":' * 100000 + "{}" + "}" * 100000
    server.send('{"jsonrpc": "2.0", "id": 77, "method": "ponder/reason", "params": ' + deep + "}")
    assert server.reply(77)["error"]["code"] in (-32700, -32602)
    assert server.request("shutdown")["result"] is None
    assert server.request("ponder/status", {})["error"]["code"] == -32600
    server.notify("exit")
    assert server.proc.wait(timeout=10) == 0


def test_a_document_over_the_size_cap_is_a_clear_error(server):
    server.initialize()
    server.open("file:///project/big.py", "x = 1\n" * 400_000)  # 2.4 million characters
    reply = reason(server, {"textDocument": {"uri": "file:///project/big.py"}})
    assert reply["error"]["code"] == -32602 and "too large" in reply["error"]["message"]
    server.open(URI, CODE)
    assert_answers(server)
