"""One reasoning request, from a selection and a question to an Answer.

    context.build → (memory.search) → (step_back) → greedy | self_consistency | cot_decoding → vote

(`auto`, the default strategy, is greedy for a question answered in free text, self_consistency
otherwise.)

The server and `ponder eval` both call `run`; nothing here knows about LSP.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Literal

from ponder.agent import calibration, context, prompts
from ponder.agent.answer import extract, is_prose, normalise, short
from ponder.agent.errors import PonderError
from ponder.agent.results import Agreement, Answer, Candidate, Recalled, Signal, Usage
from ponder.agent.settings import ReasonSettings
from ponder.agent.vote import Ballot, Vote, decided, key_of, vote

if TYPE_CHECKING:  # numpy and llama.cpp load with the engine, not with the server
    from ponder.agent.engine import Completion, Engine, StopWhen


# progress(message, percentage or None): a model load's, say (agent/services.py)
Progress = Callable[[str, int | None], None]


class Events:
    """What a request tells its caller while it runs, from the thread that decodes. This one
    hears nothing; the server's (server/features/reason.py) carries each to the editor."""

    def progress(self, message: str, percentage: int | None = None) -> None:
        """A phase ("thinking", "voting") or a token count."""

    def reasoning(self, text: str) -> None:
        """Path 0's text so far: the reasoning as it is written."""

    def first_answer(self, answer: str) -> None:
        """Path 0's answer, when it is decoded before the other paths (`_greedy_first`)."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the request (a broken memory
        store: answered without memory). Here: logged."""
        log.warning(message)


log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.25
STEP_BACK_TOKENS = 96
RULE_TOKENS = 96
STOP = ("\n\n\n\n",)
NO_FINAL_ANSWER = "no final answer"


@dataclass
class Task:
    question: str | None
    text: str  # the whole document
    path: str
    language_id: str
    start: int  # character offsets of the selection; start == end is a position
    end: int
    options: ReasonSettings = field(default_factory=ReasonSettings)


class _Usage:
    def __init__(self) -> None:
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.started = time.perf_counter()

    def add(self, completions: list[Completion], prompt: bool = True) -> None:
        if completions and prompt:
            self.prompt_tokens += completions[0].prompt_tokens
        self.completion_tokens += sum(c.completion_tokens for c in completions)

    def done(self) -> Usage:
        seconds = round(time.perf_counter() - self.started, 3)
        return Usage(self.prompt_tokens, self.completion_tokens, seconds)


def _token_reporter(
    events: Events, label: str, streamed: bool = True
) -> Callable[[int, str, int], None]:
    """An on_token callback that reports '<label>: N tokens' a few times a second, and hands
    path 0's text so far to `events.reasoning` (when `streamed`)."""
    last = [0.0]

    def on_token(seq: int, text: str, generated: int) -> None:
        if streamed and seq == 0:
            events.reasoning(text)
        now = time.perf_counter()
        if now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            events.progress(f"{label}: {generated} tokens")

    return on_token


def answered_in_free_text(question: str, answer: str) -> bool:
    """An explanation asked for, or prose given to a question that is not about what running the
    code gives ("how would you test this?"): paths cannot usefully vote on it, and no table says
    how often such answers are right."""
    if normalise(answer)[0] == "value":
        return False
    return prompts.asks_for_explanation(question) or (
        prompts.trace_hint(question) is None and is_prose(answer)
    )


def _generate(
    engine, messages, opts: ReasonSettings, usage, cancel, events: Events, settles
) -> list[Completion]:
    """The strategy's paths. Every path that reaches maxTokens is made to write its answer line.
    `events.first_answer` hears the greedy path's answer when it is decoded before the others;
    when `settles(answer)` says so (`auto` and free text), the others are not decoded."""
    common = dict(
        max_tokens=opts.max_tokens, stop=STOP, cancel=cancel, answer_tag=prompts.ANSWER_TAG
    )
    if opts.strategy == "greedy":
        events.progress("thinking")
        paths = engine.sample(messages, k=1, on_token=_token_reporter(events, "thinking"), **common)
    elif opts.strategy == "cot_decoding":
        label = f"branching {opts.samples} paths"
        events.progress(label)
        paths = engine.branch(
            messages, k=opts.samples, on_token=_token_reporter(events, label), **common
        )
    elif _greedy_first(engine, opts):
        events.progress("thinking")
        paths = engine.sample(messages, k=1, on_token=_token_reporter(events, "thinking"), **common)
        if settles is not None and settles(extract(paths[0].text).answer):
            usage.add(paths)
            return paths
        rest, answer = opts.samples - 1, _first_answer(paths[0])
        label = f"first answer {answer} · checking with {rest} more paths"
        events.progress(label)
        events.first_answer(answer)
        paths += engine.sample(  # raises Cancelled at once when cancelled meanwhile
            messages,
            k=rest,
            seed=opts.seed,
            temperature=opts.temperature,
            top_p=opts.top_p,
            on_token=_token_reporter(events, label, streamed=False),
            stop_when=_vote_decided_with(paths) if opts.early_stop else None,
            **common,
        )
    else:  # self_consistency: one batch, stopped early once the vote is decided
        label = f"sampling {opts.samples} paths"
        events.progress(label)
        paths = engine.sample(
            messages,
            k=opts.samples,
            seed=opts.seed,
            greedy_first=opts.include_greedy,
            temperature=opts.temperature,
            top_p=opts.top_p,
            on_token=_token_reporter(events, label),
            stop_when=_vote_decided_with([]) if opts.early_stop else None,
            **common,
        )
    usage.add(paths)
    return paths


def _greedy_first(engine, opts: ReasonSettings) -> bool:
    """Self-consistency's greedy path alone first, the samples after it? Where a batched row
    costs nearly what a row alone does (a 6-path step 4-6x a one-path step on the 2-core CPUs
    measured), the greedy path decoded alone streams its reasoning and gives a first answer at
    greedy's own pace, and the vote comes no later. Where extra rows cost little (a GPU, a model
    server, a CPU measured to batch well: `agent.step_costs`) the vote would come up to twice as
    late: one batch."""
    if not opts.include_greedy or opts.samples < 2:
        return False
    if opts.schedule == "auto":
        return not engine.batches_cheaply
    return opts.schedule == "greedy_first"


def _first_answer(path: Completion) -> str:
    """The path's answer on one line, at most 60 characters (a progress message carries it)."""
    return short(extract(path.text).answer, 60) or "(none)"


def _vote_decided_with(earlier: list[Completion]) -> StopWhen:
    """stop_when for a batch that joins the `earlier` paths' vote: stop once the paths still
    running can no longer change the majority."""

    def decided_now(finished: list[Completion], running: int) -> bool:
        keys = [key_of(extract(c.text).answer) for c in earlier + finished]
        return decided(keys, running)

    return decided_now


def path_of(c: Completion) -> Ballot:
    found = extract(c.text)
    return Ballot(found.answer, found.rationale, c.span_confidence(found.start, found.end), c.text)


def _raw_confidence(opts: ReasonSettings, result, sampled: int) -> float:
    """Self-consistency: the winner's share of the votes (by margin when votes are weighted;
    with early stopping, its paths over all sampled: stopped paths count as not agreeing).
    Otherwise the chosen path's answer-token margin."""
    if opts.strategy == "self_consistency":
        if opts.early_stop:
            return result.agree / sampled if sampled else 0.0
        return result.share
    return result.winner.best().score if result.winner else 0.0


def _last_statement(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def resolved(opts: ReasonSettings, question: str) -> ReasonSettings:
    """The options with `auto` made concrete: one greedy path for a question answered in free text
    (an explanation, a review: never scored, so samples buy no confidence, and on a CPU they cost
    3-5x the time), self-consistency for the rest."""
    if opts.strategy != "auto":
        return opts
    explain = prompts.asks_for_explanation(question)
    return replace(opts, strategy="greedy" if explain else "self_consistency")


def _understand(task: Task) -> tuple[str, str, context.CodeContext, str | None]:
    """The question, language, code context and selection a task is about."""
    question = (task.question or "").strip() or prompts.DEFAULT_QUESTION
    language = context.language_for(task.language_id, task.path)
    ctx = context.build(task.text, language, task.start, task.end)
    selection = ctx.selection if task.end > task.start else None
    return question, language, ctx, selection


# How a remembered trace of this same code for another question is used: "hide" (the product;
# shown whole, the models copied its answer), "trace" (shown whole, to measure that again),
# "rule" (only the general rule derived from it when it was accepted, `derive_rule`), "answer"
# (only its question and verified answer; measured: copied too) or "contrast" (that answer, and
# the model asked to compare the two inputs before it traces this one; copied more).
SameCode = Literal["hide", "trace", "rule", "answer", "contrast"]


def memory_to_show(
    found: list[dict], question: str, code: str, same_code: SameCode = "hide"
) -> tuple[list[dict], list[dict]]:
    """The retrieved traces the prompt shows as earlier turns, and those it shows only as a note
    (`prompts.same_code_note`: their rule, or their verified answer alone). Traces of this same
    code for another question (`prompts.same_code_other_question`) are used only as `same_code`
    says."""
    examples, noted = [], []
    for ex in found:
        has_rule = bool((ex.get("principle") or "").strip())
        if not prompts.same_code_other_question(ex, question, code) or same_code == "trace":
            examples.append(ex)
        elif same_code in ("answer", "contrast") or (same_code == "rule" and has_rule):
            noted.append(ex)
    return examples, noted


def derive_rule(engine: Engine, trace: dict, cancel: threading.Event | None = None) -> str:
    """The general rule of the code, worked out from an accepted trace (`prompts.code_rule`);
    an answer line the model adds out of habit is dropped (it would carry the example's value)."""
    done = engine.sample(prompts.code_rule(trace), k=1, max_tokens=RULE_TOKENS, cancel=cancel)
    lines = done[0].text.strip().splitlines()
    return "\n".join(line for line in lines if not line.startswith(prompts.ANSWER_TAG)).strip()


def messages_for(task: Task) -> list[dict[str, str]]:
    """The reasoning prompt for a task without memory or step-back (for `ponder eval`)."""
    question, language, ctx, selection = _understand(task)
    return prompts.chain_of_thought(question, ctx.code, language, selection)


def _principle(
    engine: Engine, messages: list[dict[str, str]], usage: _Usage, cancel: threading.Event | None
) -> str | None:
    """Step-back: the general principle behind the question, asked before reasoning."""
    step = engine.sample(messages, k=1, max_tokens=STEP_BACK_TOKENS, cancel=cancel)
    usage.add(step)
    return step[0].text.strip() or None


def _choose(
    opts: ReasonSettings, paths: list[Ballot], similar: Callable[[str, str], bool] | None
) -> Vote:
    """The paths' vote; CoT-decoding instead keeps the answer the model is most sure of."""
    weighted = opts.strategy == "self_consistency" and opts.weighted_vote
    result = vote(paths, similar, weighted=weighted)
    if opts.strategy == "cot_decoding" and result.groups:
        result.winner = max(
            (g for g in result.groups if g.answer.strip()), key=lambda g: g.score, default=None
        )
    return result


def _confidence(
    opts: ReasonSettings, result: Vote, sampled: int, engine: Engine, question: str
) -> tuple[calibration.Calibrated, Signal]:
    """The vote's answer calibrated where a table covers it (`calibration.calibrate` checks the
    scope), and the raw signal. The tables were fitted on value answers to questions about what
    running the code gives ("what does f(x) return?"). An answer in free text
    (`answered_in_free_text`: an explanation, prose to an open question) is `unchecked`: nothing
    measures whether it is right, and calling every explanation "uncertain" would teach users to
    ignore the word where it counts. Others are `uncertain` with no number: values that answer
    other questions (yes/no votes are unanimous and wrong far more often: docs/evaluation.md),
    text where a value was asked for, another model."""
    raw = _raw_confidence(opts, result, sampled) if result.winner else 0.0
    kind: Literal["agreement", "margin"]
    kind = "agreement" if opts.strategy == "self_consistency" else "margin"
    signal = Signal(kind, round(float(raw), 4))
    if result.winner is None:
        answer = "none"
    elif answered_in_free_text(question, result.winner.answer):
        answer = "free text"
    else:
        answer = normalise(result.winner.answer)[0]  # "value" or "text"
    adapter = engine.adapter.sha256 if engine.adapter else None
    asked = prompts.question_kind(question)
    scope = calibration.Scope(engine.name, opts.strategy, asked, answer, adapter)
    return calibration.calibrate(scope, raw), signal


def model_label(engine: Engine) -> str:
    """The model a result names: the engine's, and the adapter it runs with."""
    return f"{engine.name} + {engine.adapter.name}" if engine.adapter else engine.name


def run(
    task: Task,
    engine: Engine,
    *,
    events: Events | None = None,
    cancel: threading.Event | None = None,
    recall: Callable[[str, str], list[dict]] | None = None,
    similar: Callable[[str, str], bool] | None = None,
    same_code: SameCode = "hide",
) -> Answer:
    """Reason about `task`. `recall(question, code)` returns accepted traces similar to this
    one (each with a `similarity`): they are shown to the model as earlier turns, except traces
    of this same code for another question, used only as `same_code` says (`memory_to_show`;
    shown whole they were measured to hurt; `ponder eval related --same-code` measures it).
    `events` hears the phases, path 0 as it is written and its first answer; when path 0 gives
    the winning answer, its reasoning is the one returned, so what was streamed is what the user
    gets."""
    events = events or Events()
    usage = _Usage()
    question, language, ctx, selection = _understand(task)
    opts = resolved(task.options, question)
    examples: list[dict] = []
    noted: list[dict] = []
    if recall is not None:
        events.progress("remembering")
        try:
            found = recall(question, ctx.code)
        except PonderError as e:  # a store that cannot be read: answered without memory
            events.warn(str(e))
            found = []
        examples, noted = memory_to_show(found, question, ctx.code, same_code)

    principle = None
    if opts.step_back:
        events.progress("step back")
        asked = prompts.step_back(question, ctx.code, language, selection)
        principle = _principle(engine, asked, usage, cancel)

    messages = prompts.chain_of_thought(
        question,
        ctx.code,
        language,
        selection,
        principle=principle,
        examples=examples,
        notes=[prompts.same_code_note(m, same_code) for m in noted],
    )
    # Under `auto`, free text from the greedy path ends the request (asked for self_consistency,
    # as "ask again with more samples" does, the paths vote on it).
    settles = partial(answered_in_free_text, question) if task.options.strategy == "auto" else None
    completions = _generate(engine, messages, opts, usage, cancel, events, settles)
    if settles is not None and opts.samples > 1 and len(completions) == 1:
        opts = replace(opts, strategy="greedy")  # answered in free text by the greedy path alone

    if len(completions) > 1:
        events.progress("voting")
    paths = [path_of(c) for c in completions if c.finish_reason != "stopped"]
    result = _choose(opts, paths, similar)
    calibrated, signal = _confidence(opts, result, len(completions), engine, question)
    winner = result.winner
    best = winner.best() if winner else (paths[0] if paths else Ballot("", "", 0.0))
    if winner and paths and completions[0].finish_reason != "stopped":
        if any(p is paths[0] for p in winner.paths):
            best = paths[0]  # the path the user watched being written
    if winner is None:  # no path reached a final answer: say so, never an empty success
        last = _last_statement(best.text)
        answer_text = NO_FINAL_ANSWER + (f" (the reasoning ended with: {last})" if last else "")
    else:
        answer_text = winner.answer
    return Answer(
        id=uuid.uuid4().hex,
        answer=answer_text,
        confidence=None if calibrated.confidence is None else round(calibrated.confidence, 4),
        agreement=Agreement(result.agree, len(completions)),
        verdict=calibrated.verdict,
        principle=principle,
        rationale=best.rationale or best.text,
        candidates=[Candidate(g.answer, g.count) for g in result.groups],
        memories=[
            Recalled(m["id"], m["question"], m["answer"], round(float(m["similarity"]), 4))
            for m in examples + noted
        ],
        usage=usage.done(),
        model=model_label(engine),
        strategy=opts.strategy,
        signal=signal,
        uncalibrated=calibrated.uncalibrated,
        question=question,
        code=ctx.code,
        language=language,
        path=task.path,
        symbol=ctx.symbol,
    )
