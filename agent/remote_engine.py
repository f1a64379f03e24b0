"""The engine for a team's model server: any OpenAI-compatible `/v1/chat/completions` (llama.cpp's
llama-server, vLLM), with the interface and result shape of the in-process `LlamaEngine`.

- Every path is a streamed request with `logprobs` and `top_logprobs: 2`, so each token keeps its
  probability and top-1 minus top-2 margin (weighted votes, CoT-decoding) as in-process. A server
  without logprobs still answers greedy and self-consistency (every vote then weighs the same);
  cot_decoding says it cannot work there.
- Self-consistency: the greedy path is one request; the sampled paths are one request with `n`
  when the server supports it (its prompt is evaluated once and shared), else one request each.
  At most `max_concurrent` requests are open at a time, over all of this process's requests.
- A path cut off at max_tokens concludes as in-process: a greedy request continues the assistant
  message from the answer tag (`continue_final_message`) for up to CONCLUDE_TOKENS tokens.
- Cancel shuts every open socket at once; the server stops generating for a closed stream. A path
  that has written its answer line is closed the same way, so it costs the server nothing more.
"""

from __future__ import annotations

import math
import os
import re
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ponder.agent.adapters import Adapter
from ponder.agent.engine import (
    CONCLUDE_TOKENS,
    MIN_P,
    Completion,
    Messages,
    StopWhen,
    TokenCallback,
    _check,
    _cut_after_answer_line,
    _cut_at_stop,
    append_piece,
)
from ponder.agent.errors import Cancelled, PonderError
from ponder.agent.http_stream import Endpoint, EventStream, HTTPStatusError

CANCEL_POLL_S = 0.05
USAGE_GRACE_EVENTS = 4  # events read past a path's answer line, for the usage that follows
PROBE = [{"role": "user", "content": "Say OK."}]


@dataclass
class Capabilities:
    """What the server does, found by `load()` with a one-token request (`ponder doctor` shows
    it)."""

    models: list[str]
    n: bool  # several completions in one request
    logprobs: bool  # per-token logprobs with top_logprobs
    n_max: int = 0  # the most completions one request may ask for (llama-server: its slots); 0: any


@dataclass
class _Request:
    """One HTTP request: it fills the paths `seqs` (one choice each)."""

    seqs: list[int]
    temperature: float
    seed: int
    prefill: str = ""  # assistant text the request continues (concluding, CoT branches)
    max_tokens: int = 0


class OpenAICompatibleEngine:
    speculation = "off"  # the server decides how it decodes
    adapter: Adapter | None = None  # a team's server applies its own (llama-server --lora)
    adapter_problem: str | None = None
    batches_cheaply = True  # a model server decodes parallel requests together

    def __init__(
        self,
        url: str,
        model: str = "",
        *,
        api_key_env: str = "",
        timeout_s: float = 120.0,
        max_concurrent: int = 8,
    ):
        api_key = None
        if api_key_env:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise PonderError(
                    f"backend.apiKeyEnv names {api_key_env}, which is not set in the environment "
                    "ponder serve runs in"
                )
        self.endpoint = Endpoint(url, api_key, timeout_s)
        self.model = model
        self.name = model or "remote"
        self.capabilities: Capabilities | None = None
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._load_lock = threading.Lock()

    # ---- loading: what the server serves and supports ---------------------------------------

    def load(self) -> None:
        with self._load_lock:
            if self.capabilities is not None:
                return
            listed = self.endpoint.get("/models").get("data") or []
            served = [str(m.get("id")) for m in listed if isinstance(m, dict)]
            if not self.model:
                if not served:
                    raise PonderError(
                        f"the model server at {self.endpoint.url} lists no models: set backend.model"
                    )
                self.model = served[0]
                self.name = _name_of(served[0])
            n, logprobs = self._probe()
            self.capabilities = Capabilities(served, n, logprobs, self._slots_served() if n else 0)

    def _slots_served(self) -> int:
        """llama-server refuses `n` above its number of slots, which its /props tells; other
        servers (vLLM) have no such limit, and no /props."""
        try:
            return int(self.endpoint.get_beside_api("/props").get("total_slots") or 0)
        except (PonderError, ValueError, TypeError):
            return 0

    def _probe(self) -> tuple[bool, bool]:
        """(supports n, supports logprobs), by asking for one token."""
        body = {"model": self.model, "messages": PROBE, "max_tokens": 1, "temperature": 0.0}
        for extra in (
            {"n": 2, "logprobs": True, "top_logprobs": 2},
            {"logprobs": True, "top_logprobs": 2},
            {},
        ):
            try:
                reply = self.endpoint.post("/chat/completions", {**body, **extra})
            except HTTPStatusError as e:
                if e.status not in (400, 422) or not extra:
                    raise  # not a refused parameter: a bad key, a missing model, a failure
                continue
            return len(reply.get("choices", [])) == 2, _has_logprobs(reply)
        raise AssertionError("unreachable")

    # ---- generation -------------------------------------------------------------------------

    def sample(
        self,
        messages: Messages,
        *,
        k: int = 1,
        temperature: float = 0.0,
        top_p: float = 0.95,
        max_tokens: int = 512,
        stop: tuple[str, ...] = (),
        seed: int = 0,
        cancel: threading.Event | None = None,
        on_token: TokenCallback | None = None,
        greedy_first: bool = False,
        answer_tag: str | None = None,
        stop_when: StopWhen | None = None,
    ) -> list[Completion]:
        """k completions: greedy at temperature 0, else sampled (path 0 greedy with
        `greedy_first`). The same contract as `LlamaEngine.sample`."""
        self.load()
        greedy = list(range(k)) if temperature <= 0 else [0] if greedy_first else []
        sampled = [s for s in range(k) if s not in greedy]
        requests = []
        caps = self.capabilities
        assert caps is not None
        size = (caps.n_max or k) if caps.n else 1  # paths per request
        for seqs, temp in ((greedy, 0.0), (sampled, temperature)):
            for at in range(0, len(seqs), size):
                part = seqs[at : at + size]
                requests.append(_Request(part, temp, seed + part[0]))
        run = _Run(self, messages, k, top_p, stop, answer_tag, on_token, stop_when, cancel)
        return run.generate(requests, max_tokens)

    def branch(
        self,
        messages: Messages,
        *,
        k: int = 5,
        max_tokens: int = 512,
        stop: tuple[str, ...] = (),
        cancel: threading.Event | None = None,
        on_token: TokenCallback | None = None,
        answer_tag: str | None = None,
    ) -> list[Completion]:
        """CoT-decoding: the first token's top-k alternatives, each continued greedily."""
        self.load()
        assert self.capabilities is not None
        if not self.capabilities.logprobs:
            raise PonderError(
                f"cot_decoding needs token probabilities (logprobs), which the model server at "
                f"{self.endpoint.url} does not give: use self_consistency or greedy"
            )
        _check(cancel)
        reply = self._post_chat(
            messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=min(k, 20)
        )
        first = _entries(reply["choices"][0])[:1]
        options = first[0].get("top_logprobs") or [] if first else []
        if not options:
            raise PonderError(
                f"the model server at {self.endpoint.url} gave no first-token options"
            )
        margin = _margin([_probability(o["logprob"]) for o in options])
        run = _Run(self, messages, len(options), 1.0, stop, answer_tag, on_token, None, cancel)
        requests = []
        for seq, option in enumerate(options):
            text = _text(option)
            run.add_token(seq, option, _probability(option["logprob"]), margin)
            requests.append(_Request([seq], 0.0, 0, prefill=text))
        return run.generate(requests, max_tokens - 1)

    def _post_chat(self, messages: Messages, **params) -> dict:
        with self._slots:
            return self.endpoint.post(
                "/chat/completions", {"model": self.model, "messages": messages, **params}
            )

    def close(self) -> None:
        return None


class _Run:
    """One `sample`/`branch` call: its paths, the streams feeding them, cancel and stop_when."""

    def __init__(
        self,
        engine: OpenAICompatibleEngine,
        messages: Messages,
        k: int,
        top_p: float,
        stop: tuple[str, ...],
        answer_tag: str | None,
        on_token: TokenCallback | None,
        stop_when: StopWhen | None,
        cancel: threading.Event | None,
    ):
        self.engine = engine
        self.messages = messages
        self.top_p = top_p
        self.stop = stop
        self.answer_tag = answer_tag
        self.on_token = on_token
        self.stop_when = stop_when
        self.cancel = cancel
        self.results = [Completion(text="", finish_reason="running") for _ in range(k)]
        self.raw = [b""] * k
        self.generated = 0
        self.lock = threading.RLock()  # the results, the counter, on_token, the open streams
        self.streams: set[EventStream] = set()
        self.halted = threading.Event()  # cancelled, failed, or stopped by stop_when

    def generate(self, requests: list[_Request], max_tokens: int) -> list[Completion]:
        for r in requests:
            r.max_tokens = max_tokens
        self._all(requests)
        if self.answer_tag and not self.halted.is_set():
            # Paths cut off at max_tokens write their answer line, as in-process.
            cut = [s for s, r in enumerate(self.results) if r.finish_reason == "length"]
            for seq in cut:
                self._start_conclusion(seq)
            self._all([_Request([s], 0.0, 0, self.results[s].text, CONCLUDE_TOKENS) for s in cut])
        for result in self.results:
            if result.finish_reason == "running":
                result.finish_reason = "length"
        return self.results

    def _all(self, requests: list[_Request]) -> None:
        """Run the requests concurrently; cancel closes every stream and raises Cancelled."""
        if not requests:
            return
        _check(self.cancel)
        pool = ThreadPoolExecutor(max_workers=len(requests), thread_name_prefix="ponder-http")
        futures = [pool.submit(self._stream, r) for r in requests]
        try:
            while True:
                done, pending = wait(futures, timeout=CANCEL_POLL_S, return_when=FIRST_EXCEPTION)
                failed = [f for f in done if f.exception() is not None]
                if failed:
                    self._halt()
                    raise failed[0].exception()  # type: ignore[misc]
                if not pending:
                    return
                if self.cancel is not None and self.cancel.is_set():
                    self._halt()
                    raise Cancelled()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _halt(self) -> None:
        self.halted.set()
        with self.lock:
            streams = list(self.streams)
        for s in streams:
            s.close()

    def _stream(self, request: _Request) -> None:
        body = {
            "model": self.engine.model,
            "messages": self.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": self.top_p,
            "min_p": MIN_P,
            "seed": request.seed,
        }
        if len(request.seqs) > 1:
            body["n"] = len(request.seqs)
        if self.engine.capabilities and self.engine.capabilities.logprobs:
            body |= {"logprobs": True, "top_logprobs": 2}
        if request.prefill:  # continue the assistant's message (llama-server, vLLM)
            body["messages"] = [*self.messages, {"role": "assistant", "content": request.prefill}]
            body |= {"continue_final_message": True, "add_generation_prompt": False}
        while not self.engine._slots.acquire(timeout=CANCEL_POLL_S):
            if self.halted.is_set():
                return
        try:
            if self.halted.is_set():
                return
            stream = EventStream(self.engine.endpoint, "/chat/completions", body)
            with self.lock:
                self.streams.add(stream)
            try:
                self._read(stream, request)
            finally:
                with self.lock:
                    self.streams.discard(stream)
                stream.close()
        finally:
            self.engine._slots.release()

    def _read(self, stream: EventStream, request: _Request) -> None:
        open_seqs = set(request.seqs)
        grace = USAGE_GRACE_EVENTS
        # A server that goes on past max_tokens (the last token's own event, and a concluding
        # tag, are allowed for) is cut: its stream is closed.
        limits = {s: len(self.results[s].tokens) + request.max_tokens + 2 for s in request.seqs}
        for event in stream.events():
            if self.halted.is_set():
                return
            try:
                usage = event.get("usage")
                if usage:
                    for seq in request.seqs:
                        self.results[seq].prompt_tokens = int(usage.get("prompt_tokens") or 0)
                if not open_seqs:
                    # Every path has its answer. The usage (prompt tokens) comes after the
                    # server's own end, a token or two away; past a few events, stop waiting.
                    grace -= 1
                    if usage or grace <= 0:
                        return
                    continue
                for choice in event.get("choices") or []:
                    index = int(choice.get("index") or 0)
                    if 0 <= index < len(request.seqs) and request.seqs[index] in open_seqs:
                        seq = request.seqs[index]
                        if self._read_choice(seq, choice, limits[seq]):
                            open_seqs.discard(seq)
                            self._finished()
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                raise PonderError(
                    f"the model server at {self.engine.endpoint.url} sent a chunk ponder cannot "
                    f"read ({type(e).__name__}: {e}): is it OpenAI-compatible?"
                ) from e

    def _read_choice(self, seq: int, choice: dict, limit: int) -> bool:
        """One streamed piece of path `seq`; True when the path is finished (or has `limit`
        tokens)."""
        entries = _entries(choice)
        if entries:
            for entry in entries:
                prob = _probability(entry["logprob"])
                top = [_probability(t["logprob"]) for t in entry.get("top_logprobs") or []]
                if self.add_token(seq, entry, prob, _margin(top or [prob])):
                    break
        else:  # a server without logprobs: the text, every piece equally sure
            piece = (choice.get("delta") or {}).get("content") or ""
            if piece:
                self.add_token(seq, {"token": piece}, 1.0, 1.0)
        reason = choice.get("finish_reason")
        result = self.results[seq]
        if result.finish_reason == "running" and len(result.tokens) >= limit:
            reason = "length"
        if reason and result.finish_reason == "running":
            stopped = reason == "stop" and not result.concluded
            result.finish_reason = "stop" if stopped else "length"
        return result.finish_reason != "running"

    def add_token(self, seq: int, entry: dict, prob: float, margin: float) -> bool:
        """Append one token to path `seq`; True when the path is now finished."""
        with self.lock:
            result = self.results[seq]
            if result.finish_reason != "running":
                return True
            token = int(entry.get("id", -1))
            self.raw[seq] = append_piece(result, self.raw[seq], _bytes(entry), token, prob, margin)
            self.generated += 1
            if self.on_token:
                self.on_token(seq, result.text, self.generated)
            tag = self.answer_tag
            if _cut_at_stop(result, self.stop) or (
                tag and _cut_after_answer_line(result, tag, result.concluded)
            ):
                result.end()
                self.raw[seq] = result.text.encode()
                return True
            return False

    def _start_conclusion(self, seq: int) -> None:
        """Mark a cut-off path as concluding; write the answer tag when it is missing."""
        result = self.results[seq]
        result.concluded = True
        result.finish_reason = "running"
        if self.answer_tag and self.answer_tag not in result.text:
            tag = f"\n\n{self.answer_tag}".encode()
            with self.lock:
                self.raw[seq] = append_piece(result, result.text.encode(), tag, -1, 1.0, 1.0)

    def _finished(self) -> None:
        """A path finished: ask stop_when whether the paths still running are needed."""
        if self.stop_when is None:
            return
        with self.lock:
            finished = [r for r in self.results if r.finish_reason != "running"]
            running = [r for r in self.results if r.finish_reason == "running"]
            if not running or not self.stop_when(finished, len(running)):
                return
            for r in running:
                r.finish_reason = "stopped"
        self._halt()


def _probability(logprob) -> float:
    """exp(logprob), 0 for what is not a finite log-probability (a hostile or broken server)."""
    value = float(logprob)
    return math.exp(min(value, 0.0)) if math.isfinite(value) else 0.0


def _entries(choice: dict) -> list[dict]:
    logprobs = choice.get("logprobs")
    return (logprobs.get("content") or []) if isinstance(logprobs, dict) else []


def _has_logprobs(reply: dict) -> bool:
    """Whether the reply carries logprobs. A first token that ends the answer at once has no
    entry (llama-server lists none for end-of-generation), so an empty list still says yes."""
    choices = reply.get("choices") or [{}]
    logprobs = choices[0].get("logprobs")
    if not isinstance(logprobs, dict) or not isinstance(logprobs.get("content"), list):
        return False
    entries = logprobs["content"]
    return not entries or "top_logprobs" in entries[0]


def _bytes(entry: dict) -> bytes:
    raw = entry.get("bytes")
    return bytes(raw) if isinstance(raw, list) else str(entry.get("token", "")).encode()


def _text(entry: dict) -> str:
    return _bytes(entry).decode("utf-8", errors="ignore")


def _margin(probs: list[float]) -> float:
    """Top-1 minus top-2 probability, as in-process; with only the top one known, the second is
    taken as 0 (an upper bound on the margin, the same for the first token and the rest)."""
    top = sorted(probs, reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)


def _name_of(model_id: str) -> str:
    """The name ponder gives a served model. llama-server lists the GGUF's path as the id unless
    started with --alias: the file's name then, which for ponder's own files is the model's
    alias (`qwen2.5-coder-1.5b.gguf`), so its calibration table applies."""
    if not model_id.lower().endswith(".gguf"):
        return model_id
    return re.split(r"[/\\]", model_id)[-1][: -len(".gguf")]
