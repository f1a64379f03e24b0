"""The model engine: one object per process around llama.cpp, through llama-cpp-python.

Every generation, one path or k, goes through one batched decode loop (`_decode`):

- the prompt is evaluated once, in sequence 0, in chunks of PROMPT_CHUNK tokens, reusing the whole
  chunks the previous request left in the KV cache (same file, same context → only the new tail
  is evaluated) and never part of one: a prompt's logits are the same whatever was asked before;
- for k paths, sequence 0's cache is copied to sequences 1..k-1 (`llama_memory_seq_cp`; with a
  unified KV cache that shares cells, it copies nothing), then each step decodes one token for every
  unfinished sequence in a single `llama_decode`; finished sequences drop out of the batch;
- tokens are picked in numpy from the logits of all live sequences at once; for each picked token
  we keep its probability and the top-1 minus top-2 probability margin (for CoT-decoding confidence).

The high-level `Llama` never sets `n_seq_max`, so the model and context are built through
llama-cpp-python's lower-level wrappers. Cancellation is a `threading.Event` checked before every
decode (prompt chunks included), so a cancel stops generation within one step.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ponder.agent import adapters
from ponder.agent.errors import Cancelled, PonderError
from ponder.agent.speculation import Drafter
from ponder.agent.step_costs import StepCosts, machine_key

Messages = list[dict[str, str]]
# on_token(sequence index, text so far, tokens generated so far over all sequences)
TokenCallback = Callable[[int, str, int], None]
# stop_when(finished paths, number still running) → stop the ones still running?
StopWhen = Callable[[list["Completion"], int], bool]

# llama.cpp's CPU backend runs on OpenMP, whose idle threads spin 300,000 times before sleeping.
# Two ponder processes on one small machine (two editor windows) then starve each other: measured
# on 2 cores, 27.5 tok/s alone fell to 1.0 tok/s each when two decoded at once. A spin count of
# 2000 keeps the single-process speed (27.2) and gives 10.9 each for two (scripts/bench_contention.py).
# It must be in the environment before libgomp loads, i.e. before `import llama_cpp`.
os.environ.setdefault("GOMP_SPINCOUNT", "2000")

MAX_SEQUENCES = 32
MIN_PATH_TOKENS = 16  # fewer tokens a path than this: refuse rather than cut every path short
PROMPT_CHUNK = 128  # tokens per prompt decode: bounds how long a cancel waits
MIN_P = 0.05  # sampling candidates: at least this fraction of the best token's probability
CONCLUDE_TOKENS = 48  # a path cut off at max_tokens may add this many for its answer line


@dataclass
class Completion:
    text: str
    tokens: list[int] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)  # probability of each chosen token
    margins: list[float] = field(default_factory=list)  # top-1 minus top-2 probability, per token
    offsets: list[int] = field(default_factory=list)  # character offset in `text` of each token
    finish_reason: str = "stop"  # stop | length | stopped (by stop_when); running while decoding
    prompt_tokens: int = 0
    concluded: bool = False  # cut off at max_tokens, then made to write its answer line

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens)

    def end(self) -> None:
        """Finished on its own (end of turn, a stop string, its answer line): a path that was
        concluding after its cut-off still counts as cut off."""
        self.finish_reason = "length" if self.concluded else "stop"

    def span_confidence(self, start: int, end: int) -> float:
        """Mean top-1 minus top-2 margin of the tokens that overlap text[start:end]."""
        if not self.offsets:
            return 0.0
        picked = [
            m
            for m, off, tok_end in zip(
                self.margins, self.offsets, self.offsets[1:] + [len(self.text)], strict=True
            )
            if off < end and tok_end > start
        ]
        return float(np.mean(picked)) if picked else 0.0


@dataclass
class DecodeStats:
    """Where one batched decode spent its time: the prompt, and steps by number of live paths.
    `ponder eval` saves these to estimate what a strategy using fewer paths would cost."""

    prompt_s: float = 0.0
    steps: dict[int, list[float]] = field(default_factory=dict)  # live paths → [steps, seconds]

    drafted: int = 0  # speculation: tokens proposed by prompt lookup, and how many were kept
    draft_accepted: int = 0

    def add_step(self, rows: int, seconds: float) -> None:
        entry = self.steps.setdefault(rows, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds


@dataclass
class _Paths:
    """The state of one batched decode: each path's completion, raw bytes and next KV position."""

    results: list[Completion]
    raw: list[bytes]
    pos: list[int]
    max_tokens: int
    stop: tuple[str, ...]
    answer_tag: str | None
    tag_tokens: list[int]
    on_token: TokenCallback | None
    drafters: dict[int, Drafter]
    drafts: dict[int, list[int]] = field(default_factory=dict)  # drafts fed in the last step
    # drafted tokens the model confirmed, already in the KV cache, to append next
    confirmed: dict[int, list[tuple[int, float, float]]] = field(default_factory=dict)
    conclude_left: dict[int, int] = field(default_factory=dict)  # concluding → tokens left
    generated: int = 0  # tokens generated over all paths


class Engine(Protocol):
    """What the pipeline needs from a model. `LlamaEngine` is the real one, `ScriptedEngine` the fake."""

    name: str
    speculation: str  # "ngram" or "off"
    adapter: adapters.Adapter | None  # the LoRA adapter it runs with
    adapter_problem: str | None  # why the adapter the settings name was refused (None: not refused)

    @property
    def batches_cheaply(self) -> bool:
        """Extra paths in one batch cost little (a GPU, a model server); on the CPUs measured
        each costs nearly what a path alone does."""
        ...

    def load(self) -> None: ...

    def close(self) -> None: ...

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
    ) -> list[Completion]: ...

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
    ) -> list[Completion]: ...


def build_info() -> dict:
    """What this llama.cpp build can do (for `ponder doctor`)."""
    import llama_cpp

    return {
        "llama_cpp_python": llama_cpp.__version__,
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
    }


def _silence_llama_logs() -> None:
    """llama.cpp logs to stderr; keep it quiet unless PONDER_DEBUG is set."""
    import llama_cpp

    if os.environ.get("PONDER_DEBUG"):
        return

    @llama_cpp.llama_log_callback
    def _quiet(level, text, user_data):  # noqa: ARG001
        return None

    llama_cpp.llama_log_set(_quiet, ctypes.c_void_p(0))
    _silence_llama_logs.callback = _quiet  # type: ignore[attr-defined]  # keep it alive


class LlamaEngine:
    """The real engine. Load is lazy (first use or `load()`); every public call holds one lock."""

    def __init__(
        self,
        model_path: str,
        name: str,
        *,
        context_size: int = 8192,
        gpu_layers: int = -1,
        threads: int = 0,
        speculation: str = "off",
        step_costs_file: Path | None = None,
        adapter: str = "",
        model_sha256: Callable[[], str] | None = None,
    ):
        """`step_costs_file`: where measured step costs persist across runs (`StepCosts`).
        `adapter`: a LoRA adapter file to run with; `model_sha256` gives the model file's sha256
        to check it against. An adapter that does not belong to the model is left off, and
        `adapter_problem` says why."""
        self.model_path = model_path
        self.adapter_path = adapter
        self._model_sha256 = model_sha256 or (lambda: "")
        self.adapter: adapters.Adapter | None = None
        self.adapter_problem: str | None = None
        self._lora: Any = None
        self.speculation = speculation  # "ngram": prompt lookup on greedy paths; "off"
        self.name = name
        self.context_size = context_size
        self.gpu_layers = gpu_layers
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.lock = threading.RLock()
        self._model: Any = None
        self._ctx: Any = None
        self._cached: list[int] = []  # the tokens sequence 0 holds in the KV cache
        self._cached_logits: np.ndarray | None = None  # after _cached's last token, when whole
        self._closed = False
        self.last_stats = DecodeStats()
        self._offloaded = False  # whether load() put the model's layers on a GPU
        self.step_costs = StepCosts(step_costs_file)

    @property
    def batches_cheaply(self) -> bool:
        """Measured on this machine from the steps decoded so far (`StepCosts`); until then,
        whether the model is on a GPU."""
        return self.step_costs.cheap(default=self._offloaded)

    # ---- loading ------------------------------------------------------------------------------

    def load(self) -> None:
        with self.lock:
            if self._ctx is not None:
                return
            if self._closed:  # a request still holding a swapped-out engine must not reload it
                raise PonderError("the model was changed while this request ran: ask again")
            import llama_cpp
            from llama_cpp import _internals

            _silence_llama_logs()
            model_params = llama_cpp.llama_model_default_params()
            offload = llama_cpp.llama_supports_gpu_offload()
            layers = self.gpu_layers if self.gpu_layers >= 0 else 0x7FFFFFFF
            model_params.n_gpu_layers = layers if offload else 0
            self._offloaded = model_params.n_gpu_layers > 0
            try:
                model = _internals.LlamaModel(
                    path_model=self.model_path, params=model_params, verbose=False
                )
            except ValueError as e:
                raise PonderError(
                    f"cannot load model {self.model_path}: {e} (is the file a complete GGUF?)"
                ) from e
            params = llama_cpp.llama_context_default_params()
            params.n_ctx = self.context_size
            params.n_batch = PROMPT_CHUNK * 4
            params.n_ubatch = PROMPT_CHUNK * 4
            params.n_seq_max = MAX_SEQUENCES
            params.kv_unified = True  # copied prompts share cells instead of duplicating them
            params.n_threads = self.threads
            params.n_threads_batch = self.threads
            try:
                ctx = _internals.LlamaContext(model=model, params=params, verbose=False)
            except ValueError as e:
                raise PonderError(
                    f"cannot create a context of {self.context_size} tokens for "
                    f"{self.model_path}: {e} (try a smaller contextSize)"
                ) from e
            if self.adapter_path:
                self._attach_adapter(model, ctx)
            self._model, self._ctx = model, ctx
            self._vocab = model.vocab
            self._n_vocab = model.n_vocab()
            self._template = self._chat_template(model)
            self._batch = llama_cpp.llama_batch_init(max(params.n_batch, MAX_SEQUENCES), 0, 1)
            self._cached, self._cached_logits = [], None
            build = f"llama-cpp-python {llama_cpp.__version__}"
            self.step_costs.restore(
                machine_key(self.model_path, self.threads, self._offloaded, build)
            )

    def _attach_adapter(self, model, ctx) -> None:
        try:
            self._lora, self.adapter = adapters.attach(
                model, self.adapter_path, self.name, self._model_sha256
            )
            adapters.use(ctx, self._lora)
        except PonderError as e:
            if self._lora is not None:
                adapters.free(self._lora)
            self._lora, self.adapter = None, None
            self.adapter_problem = str(e)

    def _chat_template(self, model):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = model.metadata().get("tokenizer.chat_template")
        if not template:
            return None
        bos, eos = model.token_bos(), model.token_eos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )

    # ---- prompts ------------------------------------------------------------------------------

    def format(self, messages: Messages) -> str:
        self.load()
        if self._template is None:  # a base model: plain text turns
            turns = [f"{m['role']}: {m['content']}" for m in messages]
            return "\n\n".join(turns) + "\n\nassistant:"
        return self._template(messages=messages).prompt

    def tokenize(self, text: str) -> list[int]:
        """Tokens of trusted template text: control-token names become control tokens."""
        self.load()
        assert self._model is not None
        bos = self._model.token_bos()
        add_bos = self._model.add_bos_token()
        tokens = self._model.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)
        if add_bos and len(tokens) > 1 and tokens[0] == bos and tokens[1] == bos:
            tokens = tokens[1:]  # the template already wrote BOS
        return tokens

    def prompt_tokens(self, messages: Messages) -> list[int]:
        """The chat prompt's tokens. Only the template's own text may become control tokens: the
        messages (user code, questions, memories) are tokenized as plain text, so a file holding
        `<|im_end|>` cannot end a turn. Each content is rendered as a marker, then swapped back."""
        markers = [f"\x1eponder-message-{i}\x1e" for i in range(len(messages))]
        rendered = self.format(
            [{**m, "content": mk} for m, mk in zip(messages, markers, strict=True)]
        )
        tokens: list[int] = []
        rest = rendered
        for i, (message, marker) in enumerate(zip(messages, markers, strict=True)):
            before, found, rest = rest.partition(marker)
            if not found:
                raise PonderError("the model's chat template dropped a message")
            tokens += self.tokenize(before) if i == 0 else self._special_tokens(before)
            tokens += self._plain_tokens(message["content"])
        return tokens + self._special_tokens(rest)

    def _special_tokens(self, text: str) -> list[int]:
        return self._model.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def piece(self, token: int) -> bytes:
        import llama_cpp

        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, 64, 0, False)
        return buf.raw[: max(n, 0)]

    # ---- generation ---------------------------------------------------------------------------

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
        """k completions of the chat `messages`, decoded together. temperature 0 is greedy;
        `greedy_first` decodes path 0 greedily and samples the others (in the same batch).
        `answer_tag`, `stop_when`: see `_decode`."""
        rngs = [np.random.default_rng([seed, i]) for i in range(k)]
        greedy_rows = set(range(k)) if temperature <= 0 else ({0} if greedy_first else set())

        def pick(logits: np.ndarray, rows: list[int], first: bool) -> np.ndarray:  # noqa: ARG001
            sampled = [i for i, r in enumerate(rows) if r not in greedy_rows]
            chosen = logits.argmax(axis=1)
            if sampled:
                chosen[sampled] = _sample_rows(
                    logits[sampled], [rngs[rows[i]] for i in sampled], temperature, top_p
                )
            return chosen

        with self.lock:
            return self._decode(
                messages,
                k,
                pick,
                max_tokens,
                stop,
                cancel,
                on_token,
                answer_tag,
                stop_when,
                greedy_seqs=greedy_rows,
            )

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
        """CoT-decoding: the top-k first tokens, each continued greedily, all in one batch."""

        def pick(logits: np.ndarray, rows: list[int], first: bool) -> np.ndarray:
            if first:  # every row holds the same prompt logits; row r takes the r-th best token
                order = np.argsort(-logits[0])[: len(rows)]
                return order[np.asarray(rows)]
            return logits.argmax(axis=1)

        with self.lock:
            return self._decode(
                messages,
                k,
                pick,
                max_tokens,
                stop,
                cancel,
                on_token,
                answer_tag,
                greedy_seqs=set(range(k)),  # every branch continues greedily after its first token
            )

    def _decode(
        self,
        messages,
        k,
        pick,
        max_tokens,
        stop,
        cancel,
        on_token,
        answer_tag=None,
        stop_when=None,
        greedy_seqs: set[int] = frozenset(),  # type: ignore[assignment]
    ) -> list[Completion]:
        """The batched decode loop behind `sample` and `branch`.

        With `answer_tag` (e.g. "ANSWER:"), a path stops at the end of the line that starts with
        the tag and carries an answer, and a path that reaches `max_tokens` without one is made to
        conclude in the same batch: the tag is appended to it and it continues greedily for up to
        CONCLUDE_TOKENS tokens, to the end of that line (`Completion.concluded`).

        `stop_when(finished paths, paths still running)` is asked each time paths finish; when
        it says so, the paths still running are stopped (finish_reason "stopped")."""
        import llama_cpp

        if not 1 <= k <= MAX_SEQUENCES:
            raise PonderError(f"k must be between 1 and {MAX_SEQUENCES}, got {k}")
        self.load()
        started = time.perf_counter()
        prompt = self.prompt_tokens(messages)
        n_prompt = len(prompt)
        tag_tokens = self._plain_tokens("\n\n" + answer_tag) if answer_tag else []
        extra = len(tag_tokens) + CONCLUDE_TOKENS if answer_tag else 0
        max_tokens = self._tokens_per_path(n_prompt, k, max_tokens, extra)
        prompt_logits = self._eval_prompt(prompt, cancel)
        stats = DecodeStats(prompt_s=time.perf_counter() - started)
        self.last_stats = stats

        mem = llama_cpp.llama_get_memory(self._ctx.ctx)
        run = _Paths(
            results=[
                Completion(text="", prompt_tokens=n_prompt, finish_reason="running")
                for _ in range(k)
            ],
            raw=[b""] * k,
            pos=[n_prompt] * k,
            max_tokens=max_tokens,
            stop=stop,
            answer_tag=answer_tag,
            tag_tokens=tag_tokens,
            on_token=on_token,
            # Speculation (greedy sequences only): a drafter per sequence.
            drafters={s: Drafter(prompt) for s in greedy_seqs}
            if self.speculation == "ngram"
            else {},
        )
        live = list(range(k))
        logits = np.repeat(prompt_logits, k, axis=0)
        try:
            chosen = pick(logits, live, True)
            for s in range(1, k):
                llama_cpp.llama_memory_seq_cp(mem, 0, s, -1, -1)
            while True:
                probs, margins = _prob_and_margin(logits, chosen)
                feed: list[tuple[int, list[int], int]] = []  # (seq, tokens, first logits index)
                for row, seq in enumerate(live):
                    steps = [
                        *run.confirmed.pop(seq, []),
                        (int(chosen[row]), probs[row], margins[row]),
                    ]
                    tokens = self._advance(run, seq, steps)
                    if tokens is not None:
                        feed.append((seq, tokens, len(tokens) - 1 - len(run.drafts.get(seq, []))))
                if not feed:
                    break
                if stop_when and len(feed) < len(live):  # some paths just finished
                    finished = [r for r in run.results if r.finish_reason != "running"]
                    if stop_when(finished, len(feed)):
                        for seq, _, _ in feed:
                            run.results[seq].finish_reason = "stopped"
                        break
                _check(cancel)
                live = [seq for seq, _, _ in feed]
                step_started = time.perf_counter()
                self._decode_step(feed, run.pos)
                rows = self._logits(sum(len(tokens) - first for _, tokens, first in feed))
                logits = self._verify(feed, rows, run, mem)
                chosen = pick(logits, live, False)
                for row, seq in enumerate(live):  # concluding paths continue greedily
                    if seq in run.conclude_left:
                        chosen[row] = int(logits[row].argmax())
                seconds = time.perf_counter() - step_started
                stats.add_step(len(live), seconds)
                self.step_costs.add(sum(len(tokens) for _, tokens, _ in feed), seconds)
        finally:
            # Keep only the prompt in sequence 0, for the next request's prefix reuse.
            for s in range(1, k):
                llama_cpp.llama_memory_seq_rm(mem, s, -1, -1)
            llama_cpp.llama_memory_seq_rm(mem, 0, n_prompt, -1)
        self.step_costs.save()
        stats.drafted = sum(d.proposed for d in run.drafters.values())
        stats.draft_accepted = sum(d.accepted for d in run.drafters.values())
        return run.results

    def _tokens_per_path(self, n_prompt: int, k: int, max_tokens: int, extra: int) -> int:
        """max_tokens, shrunk so that k paths (each with `extra` tokens to conclude) fit beside
        the prompt: all sequences share the context's cells. Refuses when too few would."""
        room = self.context_size - n_prompt
        if room < MIN_PATH_TOKENS + extra:
            raise PonderError(
                f"the prompt is {n_prompt} tokens, too long for a context of {self.context_size} "
                "(select less code, or raise contextSize)"
            )
        if room // k - extra < MIN_PATH_TOKENS:
            raise PonderError(
                f"{k} paths do not fit in the context: {room} tokens are left after the "
                f"{n_prompt}-token prompt (ask for fewer samples, or raise contextSize)"
            )
        return min(max_tokens, room // k - extra)

    def _advance(
        self, run: _Paths, seq: int, steps: list[tuple[int, float, float]]
    ) -> list[int] | None:
        """Append one path's new tokens (draft tokens the model confirmed, then the token just
        picked). Returns the tokens to decode for it next, or None when it has finished."""
        import llama_cpp

        result = run.results[seq]
        for token, prob, margin in steps:
            if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                result.end()
                return None
            run.raw[seq] = self._append(result, run.raw[seq], token, prob, margin)
            run.generated += 1
            if seq in run.drafters:
                run.drafters[seq].add(token)
            if run.on_token:
                run.on_token(seq, result.text, run.generated)
            if _cut_at_stop(result, run.stop) or (
                run.answer_tag
                and _cut_after_answer_line(result, run.answer_tag, seq in run.conclude_left)
            ):
                result.end()
                return None
        # The confirmed draft tokens are already in the KV cache; the last token is not.
        tokens = [token]
        if seq in run.conclude_left:
            run.conclude_left[seq] -= 1
            if run.conclude_left[seq] <= 0:
                result.finish_reason = "length"
                return None
        elif len(result.tokens) >= run.max_tokens:
            if not run.answer_tag:
                result.finish_reason = "length"
                return None
            # Conclude: finish the answer line, writing the tag first if missing.
            result.concluded = True
            run.conclude_left[seq] = CONCLUDE_TOKENS
            run.drafters.pop(seq, None)
            if run.answer_tag not in result.text:
                for t in run.tag_tokens:
                    run.raw[seq] = self._append(result, run.raw[seq], t, 1.0, 1.0)
                tokens += run.tag_tokens
        elif seq in run.drafters:
            # Room for the draft and the token after it, before max_tokens.
            room = run.max_tokens - len(result.tokens) - 1
            run.drafts[seq] = run.drafters[seq].propose(room)
            tokens += run.drafts[seq]
        return tokens

    def _verify(self, feed, rows, run: _Paths, mem) -> np.ndarray:
        """Check each sequence's draft against the model's own argmax; keep the longest agreeing
        prefix (into `confirmed`), drop the KV cells of the rest. Returns one logits row per
        sequence: the one after its last kept token, to pick its next token from."""
        import llama_cpp

        out = np.empty((len(feed), rows.shape[1]), dtype=rows.dtype)
        at = 0
        for row, (seq, tokens, first) in enumerate(feed):
            draft = run.drafts.pop(seq, [])
            kept = 0
            while kept < len(draft) and int(rows[at + kept].argmax()) == draft[kept]:
                kept += 1
            if draft:
                probs, margins = _prob_and_margin(
                    rows[at : at + kept], np.asarray(draft[:kept], dtype=np.int64)
                )
                run.confirmed[seq] = [
                    (draft[i], float(probs[i]), float(margins[i])) for i in range(kept)
                ]
                run.drafters[seq].accept(len(draft), kept)
                rejected = len(draft) - kept
                if rejected:
                    run.pos[seq] -= rejected
                    llama_cpp.llama_memory_seq_rm(mem, seq, run.pos[seq], -1)
            out[row] = rows[at + kept]
            at += len(tokens) - first
        return out

    def _append(self, result: Completion, raw: bytes, token: int, prob, margin) -> bytes:
        return append_piece(result, raw, self.piece(token), token, prob, margin)

    def _plain_tokens(self, text: str) -> list[int]:
        return self._model.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _eval_prompt(self, prompt: list[int], cancel: threading.Event | None) -> np.ndarray:
        """Bring sequence 0 to hold exactly `prompt`, evaluating only what is not cached.
        Returns the logits after its last token (one row)."""
        import llama_cpp

        if prompt == self._cached and self._cached_logits is not None:
            return self._cached_logits  # asked again, or greedy first and then the samples
        mem = llama_cpp.llama_get_memory(self._ctx.ctx)
        common = 0
        for a, b in zip(self._cached, prompt, strict=False):
            if a != b:
                break
            common += 1
        # Reuse whole chunks only, so that every chunk is evaluated as a cold prompt's would be
        # (same start, same length): a token evaluated in a batch of another size gets other
        # logits (up to 0.5 apart on the 135M), enough to tip a greedy near-tie, and the same
        # question got another answer when asked again. The last token is always evaluated.
        common = min(common, len(prompt) - 1) // PROMPT_CHUNK * PROMPT_CHUNK
        llama_cpp.llama_memory_seq_rm(mem, 0, common, -1)
        self._cached = prompt[:common]
        self._cached_logits = None
        for start in range(common, len(prompt), PROMPT_CHUNK):
            _check(cancel)
            chunk = prompt[start : start + PROMPT_CHUNK]
            last = start + len(chunk) == len(prompt)
            b = self._batch
            b.n_tokens = len(chunk)
            for i, token in enumerate(chunk):
                b.token[i] = token
                b.pos[i] = start + i
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = 0
                b.logits[i] = last and i == len(chunk) - 1
            self._run_batch()
            self._cached = prompt[: start + len(chunk)]
        self._cached_logits = self._logits(1).copy()
        return self._cached_logits

    def _decode_step(self, feed: list[tuple[int, list[int], int]], pos: list[int]) -> None:
        """One decode: each sequence's new tokens at its next positions, logits for its tokens
        from index `first` on (the last one; with a draft, the chosen token and the draft's)."""
        b = self._batch
        i = 0
        for seq, tokens, first in feed:
            for j, token in enumerate(tokens):
                b.token[i] = token
                b.pos[i] = pos[seq]
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = seq
                b.logits[i] = j >= first
                pos[seq] += 1
                i += 1
        b.n_tokens = i
        self._run_batch()

    def _run_batch(self) -> None:
        import llama_cpp

        rc = llama_cpp.llama_decode(self._ctx.ctx, self._batch)
        if rc != 0:
            self._cached, self._cached_logits = [], None
            raise PonderError(
                f"llama_decode failed ({rc}): the context ({self.context_size} tokens) is full; "
                "ask for fewer samples or tokens, or raise contextSize"
            )

    def _logits(self, rows: int) -> np.ndarray:
        import llama_cpp

        ptr = llama_cpp.llama_get_logits(self._ctx.ctx)
        # A view into llama.cpp's buffer: valid until the next decode, and used before it.
        return np.ctypeslib.as_array(ptr, shape=(rows, self._n_vocab))

    def close(self) -> None:
        import llama_cpp

        with self.lock:
            self._closed = True
            if self._ctx is not None:
                llama_cpp.llama_batch_free(self._batch)
                self._ctx.close()
                if self._lora is not None:
                    adapters.free(self._lora)
                    self._lora = None
                self._model.close()
                self._ctx = self._model = None


def append_piece(
    result: Completion, raw: bytes, piece: bytes, token: int, prob: float, margin: float
) -> bytes:
    """Add one token (its bytes `piece`) to a path; returns the path's raw bytes (its text is
    their utf-8 prefix: a character split over tokens shows once whole)."""
    result.offsets.append(len(result.text))
    raw += piece
    result.text = raw.decode("utf-8", errors="ignore")
    result.tokens.append(token)
    result.probs.append(float(prob))
    result.margins.append(float(margin))
    return raw


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def _cut_at_stop(result: Completion, stop: tuple[str, ...]) -> bool:
    """If the text now contains a stop string, cut the text and the per-token lists before it."""
    hits = [at for at in (result.text.find(s) for s in stop) if at >= 0]
    if not hits:
        return False
    _cut(result, min(hits))
    return True


def _cut_after_answer_line(result: Completion, tag: str, concluding: bool = False) -> bool:
    """Once the line that starts with `tag` holds an answer and ends, cut the text after it.
    A path writing freely may put a longer answer on the lines below an empty tag line; a
    concluding path ends at its first line of answer."""
    at = result.text.rfind(tag)
    if at < 0:
        return False
    begin = at + len(tag)
    if concluding:
        content = len(result.text) - len(result.text[begin:].lstrip())
        newline = result.text.find("\n", content)
    else:
        newline = result.text.find("\n", begin)
    if newline < 0 or not result.text[begin:newline].strip():
        return False
    _cut(result, newline)
    return True


def _cut(result: Completion, at: int) -> None:
    """Cut the text and the per-token lists before character `at`."""
    result.text = result.text[:at]
    keep = sum(1 for off in result.offsets if off < at)
    for name in ("tokens", "probs", "margins", "offsets"):
        del getattr(result, name)[keep:]


def _prob_and_margin(logits: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the chosen token's probability and top-1 minus top-2 probability (no sort)."""
    rows = np.arange(len(chosen))
    best = logits.argmax(axis=1)
    top = logits[rows, best][:, None]
    weights = np.exp(logits - top)  # float32, like the logits
    total = weights.sum(axis=1)
    prob = weights[rows, chosen] / total
    weights[rows, best] = 0.0
    second = weights.max(axis=1)
    margin = (1.0 - second) / total
    return prob, margin


def _sample_rows(
    logits: np.ndarray, rngs: list[np.random.Generator], temperature: float, top_p: float
) -> np.ndarray:
    """min-p, temperature and top-p sampling, one token per row, each row with its own RNG.

    Candidates are the tokens at least MIN_P times as likely as the best one (llama.cpp's default
    min-p filter): finding them is one linear pass, cheaper than a top-k partition of the vocab."""
    picked = np.empty(len(logits), dtype=np.int64)
    floor = logits.max(axis=1) + np.log(MIN_P)
    for row, rng in enumerate(rngs):
        ids = np.flatnonzero(logits[row] >= floor[row])
        ids = ids[np.argsort(-logits[row, ids])]
        scaled = logits[row, ids].astype(np.float64) / temperature
        p = np.exp(scaled - scaled[0])
        p /= p.sum()
        # min: with top_p 1.0 the cumulative sum can stay a rounding error below it
        keep = min(int(np.searchsorted(np.cumsum(p), top_p) + 1), len(ids))
        p = p[:keep] / p[:keep].sum()
        picked[row] = ids[rng.choice(keep, p=p)]
    return picked
