"""An answer in words, for an editor: the inlay hint's label, the hover's markdown, the verdict,
the vote. Pure functions of the typed result (agent/results.py)."""

from __future__ import annotations

from ponder.agent.answer import short
from ponder.agent.results import Answer, Check, FirstAnswer

HINT_ANSWER_CHARS = 60
HOVER_REASONING_LINES = 12


def hint_label(result: Answer | FirstAnswer, stale: bool) -> str:
    """`⟹ ['apple', 'fig'] · 4/5` (the vote), `· 0.83` for one path whose confidence is
    calibrated, `?` when uncertain; an unchecked explanation gets neither: there is nothing to
    weigh it by. A raw signal is never shown as a number."""
    label = f"⟹ {short(result.answer, HINT_ANSWER_CHARS)}"
    if isinstance(result, FirstAnswer):
        return label + " · first answer, checking…"
    if result.verdict != "unchecked":
        paths, confidence = result.agreement.paths, result.confidence
        if paths > 1:
            label += f" · {result.agreement.agree}/{paths}"
        elif confidence is not None:
            label += f" · {confidence:.2f}"
        label += "" if result.verdict == "confident" or result.checked else " ?"
    if result.checked is not None:
        label += " · " + _checked_label(result.checked)
    return label + (" (stale: the code changed)" if stale else "")


def _checked_label(checked: Check) -> str:
    if checked.verdict == "refuted":
        return f"refuted: running gives {short(checked.actual, HINT_ANSWER_CHARS)}"
    return checked.verdict  # "verified", "could not run"


def check_text(checked: Check) -> str:
    """What checking by running found, in words (a message; the hover's line)."""
    if checked.verdict == "verified":
        return f"verified: running it gives {short(checked.actual, 200)}"
    if checked.verdict == "refuted":
        return f"refuted: running it gives {short(checked.actual, 200)}"
    return f"could not run it: {checked.actual}"


def verdict_text(result: Answer) -> str:
    """How far to trust the answer, in words: "confident · confidence 0.88", "UNCERTAIN — do not
    rely on this answer · confidence 0.36", "UNCERTAIN — … · not calibrated: the answer is not a
    Python value", or, for an explanation, "free text, not checked"."""
    if result.verdict == "unchecked":
        return "free text, not checked"
    word = (
        "confident" if result.verdict == "confident" else "UNCERTAIN — do not rely on this answer"
    )
    return f"{word} · {confidence_text(result)}"


def confidence_text(result: Answer) -> str:
    """ "confidence 0.88" where it is calibrated, else why not ("not calibrated for yes/no
    questions")."""
    if result.confidence is None:
        return result.uncalibrated or "not calibrated"
    return f"confidence {result.confidence:.2f}"


def agreement_text(result: Answer) -> str:
    """The vote in words ("4 of 6 paths agree"), or "one path"."""
    agree, paths = result.agreement.agree, result.agreement.paths
    return f"{agree} of {paths} paths agree" if paths > 1 else "one path"


def votes_text(result: Answer, limit: int = 40) -> str:
    """The paths' answers ("`[1]` × 4, `[2]` × 1, no answer × 1") when they gave more than one,
    else "": beside an uncertain answer, the right one is often among them (README, `candidates`)."""
    if len(result.candidates) < 2:
        return ""
    return ", ".join(
        (f"`{short(c.answer, limit)}`" if c.answer.strip() else "no answer") + f" × {c.count}"
        for c in result.candidates
    )


def answer_markdown(result: Answer | FirstAnswer, stale: bool = False) -> str:
    """The answer as markdown: verdict, vote, principle, the reasoning's last lines, memories."""
    lines = [f"**ponder** ⟹ `{short(result.answer, 200)}`", ""]
    if stale:
        lines += ["*Stale: the code changed since this answer. Ask again.*", ""]
    if isinstance(result, FirstAnswer):
        return "\n".join(
            [*lines, "first answer (the greedy path): the other paths are checking it…"]
        )
    lines.append(f"{verdict_text(result)} · {agreement_text(result)}")
    votes = votes_text(result)
    if votes:
        lines += ["", f"votes: {votes}"]
    if result.checked is not None:
        lines += ["", f"**Checked by running:** {check_text(result.checked)}"]
        if result.checked.explanation:
            lines += ["", result.checked.explanation]
    if result.principle:
        lines += ["", f"*Principle:* {result.principle}"]
    reasoning = [line for line in result.rationale.splitlines() if line.strip()]
    if reasoning:
        shown = reasoning[-HOVER_REASONING_LINES:]
        lines += ["", "**Reasoning**" + (" (last lines)" if len(shown) < len(reasoning) else "")]
        lines += ["", *shown]
    for memory in result.memories:
        lines += [
            "",
            f"*Remembered:* {short(memory.question, 80)} ⟹ `{short(memory.answer, 40)}`",
        ]
    return "\n".join(lines) + "\n"
