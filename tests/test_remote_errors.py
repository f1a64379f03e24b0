"""How the OpenAI-compatible backend reports each way a model server fails, against a small HTTP
server that fails on purpose (the real llama-server is in tests/e2e/test_backend.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ponder.agent.errors import PonderError
from ponder.agent.remote_engine import OpenAICompatibleEngine
from ponder.agent.services import check_backend_location, make_engine
from ponder.agent.settings import from_wire
from tests.llama_server import free_port

PROMPT = [{"role": "user", "content": "hi"}]
MODELS = {"data": [{"id": "tiny"}]}


def chunk(text: str, finish=None) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    return b"data: " + json.dumps({"choices": [choice]}).encode() + b"\n\n"


class Script:
    """What the fake server does for each path: GET /v1/models answers MODELS; POSTs follow
    `chat` (status, body bytes or a callable(handler))."""

    def __init__(self):
        self.chat = (200, json.dumps({"choices": [{"message": {"content": "OK"}}]}).encode())
        self.models = (200, json.dumps(MODELS).encode())
        self.headers: list[dict] = []


@pytest.fixture
def fake():
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            return None

        def _answer(self, reply):
            if callable(reply):
                return reply(self)
            status, body = reply
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            self.headers_seen()
            self._answer(script.models)

        def do_POST(self):  # noqa: N802
            self.headers_seen()
            self.rfile.read(int(self.headers["Content-Length"]))
            self._answer(script.chat)

        def headers_seen(self):
            script.headers.append(dict(self.headers))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, address: None  # a client that hung up early: expected
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield script
    server.shutdown()
    server.server_close()


def engine(url, **kw):
    return OpenAICompatibleEngine(url, **kw)


def test_connection_refused_says_so_and_what_to_do():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(PonderError, match="connection refused.*is it running"):
        engine(url).load()


@pytest.mark.parametrize(
    "status,expected",
    [
        (401, "refused the API key \\(HTTP 401\\).*backend.apiKeyEnv"),
        (429, "busy \\(HTTP 429.*maxConcurrent"),
        (503, "failed \\(HTTP 503: loading model\\).*tries again"),
        (404, "no such model.*backend.model"),
    ],
)
def test_http_statuses_become_one_clear_message_each(fake, status, expected):
    fake.models = (status, json.dumps({"error": {"message": "loading model"}}).encode())
    with pytest.raises(PonderError, match=expected):
        engine(fake.url).load()


def test_not_json_is_named(fake):
    fake.models = (200, b"<html>a login page</html>")
    with pytest.raises(PonderError, match="not JSON.*OpenAI-compatible"):
        engine(fake.url).load()


def test_a_slow_server_times_out_with_the_setting_named(fake):
    def slow(handler):
        threading.Event().wait(2)

    fake.chat = slow
    e = engine(fake.url, timeout_s=0.5)
    with pytest.raises(PonderError, match="did not answer within 0.5 s.*backend.timeoutS"):
        e.load()


def test_a_dropped_stream_is_a_clear_error_and_the_next_request_works(fake):
    e = engine(fake.url)
    e.load()

    def drop(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        handler.wfile.write(chunk("The answer"))
        handler.wfile.flush()
        handler.connection.shutdown(2)  # the server died mid-answer

    fake.chat = drop
    with pytest.raises(PonderError, match="mid-answer|closed the connection"):
        e.sample(PROMPT, max_tokens=16)

    def fine(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(chunk("ANSWER: 4\n", finish="stop") + b"data: [DONE]\n\n")

    fake.chat = fine
    [path] = e.sample(PROMPT, max_tokens=16)
    assert path.text == "ANSWER: 4\n" and path.finish_reason == "stop"


def test_an_error_event_mid_stream_is_reported(fake):
    e = engine(fake.url)
    e.load()

    def error(handler):
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(b'data: {"error": {"message": "context full"}}\n\n')

    fake.chat = error
    with pytest.raises(PonderError, match="failed mid-answer: context full"):
        e.sample(PROMPT, max_tokens=16)


def test_the_key_comes_from_the_named_variable_and_only_goes_in_the_header(fake, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", "s3cret")
    engine(fake.url, api_key_env="TEAM_KEY").load()
    assert fake.headers[0]["Authorization"] == "Bearer s3cret"
    monkeypatch.delenv("TEAM_KEY")
    with pytest.raises(PonderError, match="TEAM_KEY, which is not set"):
        engine(fake.url, api_key_env="TEAM_KEY")


def test_without_logprobs_cot_decoding_says_why(fake):
    e = engine(fake.url)
    e.load()
    assert e.capabilities.logprobs is False and e.capabilities.n is False
    with pytest.raises(PonderError, match="cot_decoding needs token probabilities"):
        e.branch(PROMPT, k=3)


def test_a_workspace_setting_cannot_send_code_to_another_machine(monkeypatch):
    monkeypatch.delenv("PONDER_BACKEND_URL", raising=False)
    monkeypatch.delenv("PONDER_REMOTE_BACKEND", raising=False)
    check_backend_location("http://localhost:8080/v1")  # this machine: fine
    settings, problems = from_wire({"backend": {"kind": "openai", "url": "http://evil.example/v1"}})
    assert problems == []
    with pytest.raises(PonderError, match="on another machine.*--backend-url"):
        make_engine(settings)
    check_backend_location(
        "http://evil.example/v1", trusted="http://evil.example/v1/"
    )  # --backend-url
    with pytest.raises(PonderError):
        check_backend_location("http://evil.example/v1", trusted="http://gpu-box:8080/v1")
    monkeypatch.setenv("PONDER_BACKEND_URL", "http://evil.example/v1")  # the user's own choice
    check_backend_location("http://evil.example/v1/")
    monkeypatch.setenv("PONDER_BACKEND_URL", "http://gpu-box:8080/v1")
    with pytest.raises(PonderError):
        check_backend_location("http://evil.example/v1")
    monkeypatch.setenv("PONDER_REMOTE_BACKEND", "1")
    check_backend_location("http://evil.example/v1")


def test_a_bad_url_is_named():
    with pytest.raises(PonderError, match="not an http"):
        engine("gpu-box:8080")


def streaming(events: list[bytes]):
    def send(handler):
        handler.send_response(200)
        handler.end_headers()
        for event in events:
            handler.wfile.write(event)
        handler.wfile.write(b"data: [DONE]\n\n")

    return send


def test_a_chunk_that_is_not_openai_shaped_is_named(fake):
    e = engine(fake.url)
    e.load()
    fake.chat = streaming([b'data: {"choices": [{"index": "zero"}]}\n\n'])
    with pytest.raises(PonderError, match="sent a chunk ponder cannot read"):
        e.sample(PROMPT, max_tokens=16)
    fake.chat = streaming([b"data: [1, 2]\n\n"])
    with pytest.raises(PonderError, match="not a JSON object"):
        e.sample(PROMPT, max_tokens=16)


def test_a_server_that_ignores_max_tokens_is_cut_off(fake):
    e = engine(fake.url)
    e.load()
    fake.chat = streaming([chunk("word ") for _ in range(500)])
    [path] = e.sample(PROMPT, max_tokens=10)
    assert path.finish_reason == "length" and len(path.tokens) <= 12


def test_a_model_served_by_its_file_path_is_named_by_its_file(fake):
    # llama-server without --alias lists the GGUF's path; ponder's file is named by its alias
    fake.models = (200, json.dumps({"data": [{"id": "/srv/m/qwen2.5-coder-1.5b.gguf"}]}).encode())
    e = engine(fake.url)
    e.load()
    assert e.name == "qwen2.5-coder-1.5b" and e.model == "/srv/m/qwen2.5-coder-1.5b.gguf"
    fake.models = (200, json.dumps({"data": [{"id": "C:\\models\\Tiny.GGUF"}]}).encode())
    e = engine(fake.url)
    e.load()
    assert e.name == "Tiny"


def test_token_margins_are_top1_minus_top2_and_the_chosen_probability_when_alone(fake):
    import math

    def entry(token, p, *others):
        top = [{"token": t, "logprob": math.log(q), "bytes": list(t.encode())}
               for t, q in [(token, p), *others]]  # fmt: skip
        return {"token": token, "logprob": math.log(p), "bytes": list(token.encode()),
                "top_logprobs": top}  # fmt: skip

    def logprob_chunk(e):
        choice = {"index": 0, "delta": {"content": e["token"]}, "finish_reason": None,
                  "logprobs": {"content": [e]}}  # fmt: skip
        return b"data: " + json.dumps({"choices": [choice]}).encode() + b"\n\n"

    e = engine(fake.url)
    e.load()
    entries = [entry("a", 0.7, ("b", 0.2)), entry("c", 0.6)]  # the second: no runner-up listed
    fake.chat = streaming([logprob_chunk(x) for x in entries] + [chunk("", "stop")])
    [path] = e.sample(PROMPT, max_tokens=8)
    assert path.text == "ac" and path.margins == pytest.approx([0.5, 0.6])
