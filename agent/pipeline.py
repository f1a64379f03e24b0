"""One reasoning request, from a selection and a question to an Answer.

    context.build → (memory.search) → (step_back) → greedy | self_consistency | cot_decoding → vote

The server and `ponder eval` both call `run`; nothing here knows about LSP.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from agent import context, prompts
from agent.answer import extract
from agent.engine import Completion, Engine
from agent.settings import ReasonSettings
from agent.vote import Path, vote

# progress(message, percentage or None)
Progress = Callable[[str, int | None], None]
PROGRESS_INTERVAL_S = 0.25
STEP_BACK_TOKENS = 96
FORCED_ANSWER_TOKENS = 48


@dataclass
class Task:
    question: str | None
    text: str  # the whole document
    path: str
    language_id: str
    start: int  # character offsets of the selection; start == end is a position
    end: int
    options: ReasonSettings = field(default_factory=ReasonSettings)


@dataclass
class Answer:
    id: str
    answer: str
    confidence: float
    principle: str | None
    rationale: str
    candidates: list[dict]
    memories: list[dict]
    usage: dict
    model: str
    strategy: str
    # Kept for `ponder/accept` (the memory needs what was asked about); not sent to the editor.
    question: str = ""
    code: str = ""
    language: str = ""
    path: str = ""
    symbol: str | None = None

    def to_wire(self) -> dict:
        wire = asdict(self)
        for private in ("question", "code", "language", "path", "symbol"):
            wire.pop(private)
        return wire


class _Usage:
    def __init__(self) -> None:
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.started = time.perf_counter()

    def add(self, completions: list[Completion]) -> None:
        if completions:
            self.prompt_tokens += completions[0].prompt_tokens
        self.completion_tokens += sum(c.completion_tokens for c in completions)

    def to_wire(self) -> dict:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "seconds": round(time.perf_counter() - self.started, 3),
        }


def _token_reporter(progress: Progress, label: str) -> Callable[[int, str, int], None]:
    """An on_token callback that reports '<label>: N tokens' a few times a second."""
    last = [0.0]

    def on_token(seq: int, text: str, generated: int) -> None:  # noqa: ARG001
        now = time.perf_counter()
        if now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            progress(f"{label}: {generated} tokens", None)

    return on_token


def _force_answers(engine, messages, completions, usage, cancel, report) -> None:
    """A path cut off by the token limit before its final line: ask for the answer line now,
    continuing the path's own reasoning (a short greedy generation)."""
    for c in completions:
        if c.finish_reason != "length" or prompts.ANSWER_TAG in c.text:
            continue
        report("concluding", None)
        tail = f"\n\n{prompts.ANSWER_TAG}"
        forced = engine.sample(
            messages, k=1, max_tokens=FORCED_ANSWER_TOKENS, stop=("\n",), cancel=cancel,
            prefix=c.text + tail,
        )[0]  # fmt: skip
        usage.add([forced])
        start = len(c.text) + len(tail)
        c.text += tail + forced.text
        c.tokens += forced.tokens
        c.probs += forced.probs
        c.margins += forced.margins
        c.offsets += [start + off for off in forced.offsets]


def run(
    task: Task,
    engine: Engine,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    recall: Callable[[str, str], list[dict]] | None = None,
    similar: Callable[[str, str], bool] | None = None,
) -> Answer:
    """Reason about `task`. `recall(question, code)` returns accepted traces similar to this
    one (each with a `similarity`): they are shown to the model as worked examples."""
    report = progress or (lambda message, percentage: None)
    opts = task.options
    usage = _Usage()
    question = (task.question or "").strip() or prompts.DEFAULT_QUESTION
    language = context.language_for(task.language_id, task.path)
    ctx = context.build(task.text, language, task.start, task.end)
    selection = ctx.selection if task.end > task.start else None
    examples = []
    if recall is not None:
        report("remembering", None)
        examples = recall(question, ctx.code)

    principle = None
    if opts.step_back:
        report("step back", None)
        step = engine.sample(
            prompts.step_back(question, ctx.code, language, selection),
            k=1,
            max_tokens=STEP_BACK_TOKENS,
            cancel=cancel,
        )
        usage.add(step)
        principle = step[0].text.strip() or None

    messages = prompts.chain_of_thought(
        question, ctx.code, language, selection, principle=principle, examples=examples
    )
    stop = ("\n\n\n\n",)
    if opts.strategy == "greedy":
        report("thinking", None)
        completions = engine.sample(
            messages,
            k=1,
            max_tokens=opts.max_tokens,
            stop=stop,
            cancel=cancel,
            on_token=_token_reporter(report, "thinking"),
        )
    elif opts.strategy == "self_consistency":
        report(f"sampling {opts.samples} paths", None)
        completions = engine.sample(
            messages,
            k=opts.samples,
            temperature=opts.temperature,
            top_p=opts.top_p,
            max_tokens=opts.max_tokens,
            stop=stop,
            seed=opts.seed,
            cancel=cancel,
            on_token=_token_reporter(report, f"sampling {opts.samples} paths"),
        )
    else:  # cot_decoding
        report(f"branching {opts.samples} paths", None)
        completions = engine.branch(
            messages,
            k=opts.samples,
            max_tokens=opts.max_tokens,
            stop=stop,
            cancel=cancel,
            on_token=_token_reporter(report, f"branching {opts.samples} paths"),
        )
    usage.add(completions)
    if opts.strategy != "self_consistency":  # one path decides: make sure it has an answer
        _force_answers(engine, messages, completions, usage, cancel, report)

    report("voting", None)
    paths = []
    for c in completions:
        found = extract(c.text)
        score = c.span_confidence(found.start, found.end)
        paths.append(Path(found.answer, found.rationale, score, c.text))
    result = vote(paths, similar)
    if opts.strategy == "self_consistency":
        confidence = result.confidence
    else:
        # One path (greedy), or CoT-decoding: the chosen path's answer-token margin.
        if opts.strategy == "cot_decoding" and result.groups:
            result.winner = max(
                (g for g in result.groups if g.answer.strip()), key=lambda g: g.score, default=None
            )
        confidence = result.winner.best().score if result.winner else 0.0
    winner = result.winner
    best = winner.best() if winner else (paths[0] if paths else Path("", "", 0.0))
    return Answer(
        id=uuid.uuid4().hex,
        answer=winner.answer if winner else "",
        confidence=round(float(confidence), 4),
        principle=principle,
        rationale=best.rationale or best.text,
        candidates=[{"answer": g.answer, "count": g.count} for g in result.groups],
        memories=[
            {
                "id": m["id"],
                "question": m["question"],
                "answer": m["answer"],
                "similarity": round(float(m["similarity"]), 4),
            }
            for m in examples
        ],  # fmt: skip
        usage=usage.to_wire(),
        model=engine.name,
        strategy=opts.strategy,
        question=question,
        code=ctx.code,
        language=language,
        path=task.path,
        symbol=ctx.symbol,
    )
