"""Every prompt ponder sends, in one place. Pure functions: text in, chat messages out, no I/O."""

from __future__ import annotations

import ast
import re

ANSWER_TAG = "ANSWER:"
DEFAULT_QUESTION = "Explain what the selected code does and why."

SYSTEM = (
    "You are ponder, a careful reasoning assistant inside a code editor. You answer questions about "
    "the user's code. Reason step by step before answering, and stay grounded in the code shown."
)

# "What does f(x) return?" questions: a small model follows a long computation when it writes
# the program state after each step instead of jumping to the result.
_TRACE = (
    "Trace the execution briefly: one short line per executed statement or loop iteration, with "
    "the values of the variables that changed."
)
TRACE_HINT = f"{_TRACE} Then give the exact return value as a Python literal."
# "What type of value does f(x) return?": the trace finds the type (the 1.5B's values had the
# right type 39 times of 40), but asked for the value, it answered with the value.
TYPE_HINT = f"{_TRACE} Then give only the name of the returned value's type."

FORMAT = (
    f"Finish with one last line of the form `{ANSWER_TAG} <answer>`: a short, final answer "
    "(for a value, only the value as a Python literal)."
)

_EXECUTION_QUESTION = re.compile(
    r"\b(return|returns|output|outputs|print|prints|evaluate|evaluates|value of|result of)\b", re.I
)
# "Does f(x) return None?", "Would f return the same value if ...?" (asked for yes or no), "Why
# does f return early?" (for a reason): not for the value. Told by the trace hint to "give the
# exact return value", the 1.5B answered such questions with a value (13 of 51 on `ponder eval
# concepts --questions aliases,order`).
_NOT_FOR_THE_VALUE = re.compile(
    r"^\s*(is|are|was|were|does|do|did|will|would|can|could|should|has|have|may|might|why)\b",
    re.I,
)


# "What type of value does f(x) return?" asks for a type, not the value: told to "give the
# exact return value", the 1.5B answered 26 of 40 such questions with the value itself (`ponder
# eval concepts --questions type`, docs/evaluation.md).
_FOR_A_TYPE = re.compile(
    r"\b(what|which)\s+(data\s+)?(type|kind|class)\b|\b(type|class)\s+of\b|\breturn\s+type\b",
    re.I,
)


def trace_hint(question: str) -> str | None:
    """How to work out a question about what running the code gives: trace it, then give the
    value (or its type, when the question asks for the type); None for other questions."""
    if not _EXECUTION_QUESTION.search(question) or _NOT_FOR_THE_VALUE.match(question):
        return None
    return TYPE_HINT if _FOR_A_TYPE.search(question) else TRACE_HINT


_YES_NO_QUESTION = re.compile(
    r"^\s*(is|are|was|were|does|do|did|will|would|can|could|should|has|have|may|might)\b", re.I
)


def question_kind(question: str) -> str:
    """ "value" (what running the code gives: the calibration tables' kind), "yes/no" ("does f(x)
    change its argument?") or "other" (a type, an explanation, anything else)."""
    if trace_hint(question) == TRACE_HINT:
        return "value"
    return "yes/no" if _YES_NO_QUESTION.match(question) else "other"


# Questions answered with an explanation, a review or a rewrite: free text (or code), which
# paths cannot usefully vote on. Only openings that cannot ask for a value: "find the value of x"
# or "what is the value for x" are not here.
_NOUN = (
    r"(code|function|method|class|snippet|module|program|script|file|loop|block|line|statement"
    r"|expression|variable|parameter|argument|decorator|regex|condition|check)"
)
_EXPLANATION = re.compile(
    r"^\s*((please|can\s+you|could\s+you)\s+)?("
    r"explain|describe|summari[sz]e|walk\s+(me\s+)?through|reason\s+about|why\b"
    r"|review|document|comment\s+on|refactor|rewrite|simplify|improve|suggest"
    r"|(find|spot|fix)\s+(the\s+|any\s+|a\s+)?(bugs?|errors?|issues?|problems?|mistakes?)"
    r"|what('s|\s+is)\s+wrong"
    rf"|what\s+(does|do|is)\s+(this|that|it|the)(\s+selected)?(\s+{_NOUN})?\s+(do|doing|for|mean)\b"
    rf"|how\s+(does|do)\s+(this|that|it|the)(\s+selected)?(\s+{_NOUN})?\s+work)",
    re.I,
)


def asks_for_explanation(question: str) -> bool:
    """An open question ("Explain what the selected code does and why", "what does this function
    do?", "find the bug"): its answer is an explanation, a review or code, not a value, a type or
    a yes/no. A question about what running the code gives ("explain what f(2) returns") is not
    one."""
    return bool(_EXPLANATION.match(question)) and trace_hint(question) is None


def code_block(code: str, language: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


def _question_text(question: str, code: str, language: str, selection: str | None) -> str:
    parts = [f"Code:\n{code_block(code, language)}"]
    if selection and selection.strip() and selection.strip() != code.strip():
        parts.append(f"The user selected:\n{code_block(selection, language)}")
    parts.append(f"Question: {question}")
    return "\n\n".join(parts)


def chain_of_thought(
    question: str,
    code: str,
    language: str,
    selection: str | None = None,
    principle: str | None = None,
    examples: list[dict] | None = None,
    notes: list[str] | None = None,
) -> list[dict[str, str]]:
    """The reasoning prompt: code, question, optional principle and notes remembered about this
    code (`same_code_note`), answer format. Remembered examples come first as earlier turns of the
    conversation, each asked exactly as it was then and answered with the accepted reasoning:
    the model redoes the work for the new question (shown inline as "worked examples", they
    were copied or ignored)."""
    user = [_question_text(question, code, language, selection)]
    if principle:
        user.append(f"A principle that applies here: {principle.strip()}")
    user += notes or []
    instructions = ["Think step by step."]
    if hint := trace_hint(question):
        instructions.append(hint)
    instructions.append(FORMAT)
    user.append(" ".join(instructions))
    messages = [{"role": "system", "content": SYSTEM}]
    for example in examples or []:
        messages += chat_example(example)["messages"][1:]
    return messages + [{"role": "user", "content": "\n\n".join(user)}]


def same_code_other_question(example: dict, question: str, code: str) -> bool:
    """A remembered trace about this same code but another question. Measured (docs/evaluation.md,
    memory): the 0.5B shown one copied its answer or its values (4 of 4 such B questions lost shown
    as a worked example, 3 lost and none won of 12 with the result left out), and the 1.5B shown one
    as an earlier turn copied its answer (2 lost, none won of 17), and shown only a rule of the code
    written from it (`code_rule`) followed the rule where it was loose (4 lost, 2 won of 24), and
    shown only its question and verified answer copied that answer (6 lost, 1 won of 24), and shown
    that answer and asked to compare the two inputs first copied it more (14 lost, 9 of them A's
    answer verbatim, 3 won of 27), and shown after its own answer, to check it against, answered
    with A's answer 8 times of 9 (5 lost, none won; `scripts/check_with_memory.py`@3e230d1), so these are
    not shown."""
    return (
        bool(code.strip())
        and example.get("code", "").strip() == code.strip()
        and " ".join(example.get("question", "").split()) != " ".join(question.split())
    )


def same_code_note(example: dict, kind: str) -> str:
    """A remembered answer about this same code for another question, as a note after the
    question: the rule of the code written from it (`code_rule`, kind "rule"), or only the
    question and the answer the user verified (kind "answer": an input-output example, without
    the reasoning whose values the models copied), or that example with the model asked to
    compare the two inputs first (kind "contrast")."""
    if kind == "rule":
        return (
            "Worked out earlier about this code, from an answer the user verified: "
            f"{example['principle'].strip()}"
        )
    verified = (
        f"Verified earlier by the user, for another input: {example['question'].strip()} "
        f"It returned {example['answer'].strip()}."
    )
    if kind == "contrast":  # analogy, not a copy: what differs in the input, then in the result
        return (
            f"{verified} This question's input is not that one. Before tracing, say exactly "
            "how this input differs from that one and what that difference changes in the result."
        )
    return verified


def step_back(question: str, code: str, language: str, selection: str | None = None) -> list[dict]:
    """Step-back prompting, first half: ask for the general principle behind the question."""
    user = (
        _question_text(question, code, language, selection)
        + "\n\nBefore answering, take a step back: in one or two sentences, state the general "
        "principle or language rule (for example how a built-in function or method behaves) that "
        "decides the answer. Do not answer the question itself."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def code_rule(trace: dict) -> list[dict[str, str]]:
    """Ask for the general rule of the code from an answer the user accepted: what carries over
    to another question about the same code, without the example's values (which a small model,
    shown the whole trace, copied into its next answer)."""
    user = (
        f"Code:\n{code_block(trace['code'], trace.get('language', ''))}\n\n"
        f"Question: {trace['question']}\n\nReasoning the user verified:\n"
        f"{(trace.get('rationale') or '').strip()}\n{ANSWER_TAG} {trace['answer']}\n\n"
        "In one or two sentences, state the general rule this code follows: what it computes "
        "for any input, in words. Do not repeat this example's values or its answer."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def chat_example(trace: dict) -> dict:
    """An accepted trace as a chat-format training example (question + code → principle,
    reasoning, answer): a model's own accepted reasoning becomes its fine-tuning data."""
    user = chain_of_thought(trace["question"], trace["code"], trace.get("language", ""))[-1]
    parts = []
    if trace.get("principle"):
        parts.append(f"Principle: {trace['principle']}")
    parts.append(trace.get("rationale") or "")
    parts.append(f"{ANSWER_TAG} {trace['answer']}")
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            user,
            {"role": "assistant", "content": "\n\n".join(p for p in parts if p)},
        ]
    }


def where_it_differs(
    question: str, code: str, claimed: str, actual: str, trace: str, reasoning: str
) -> list[dict[str, str]]:
    """An answer that running the code refuted: the real value and the executed trace beside the
    model's reasoning; asked for the line where the two part ways (check by running)."""
    user = (
        f"Code:\n{code_block(code, 'python')}\n\nQuestion: {question}\n\n"
        f"Your reasoning:\n{reasoning.strip()}\n{ANSWER_TAG} {claimed}\n\n"
        f"Running the code gives {actual}. What it executed, line by line:\n{trace.strip()}\n\n"
        "The code is right: the execution is what it does. Your reasoning made the mistake. "
        "Find the first step of your reasoning that disagrees with the execution, quote the line "
        "of code that step was about, and say in one or two sentences what that line really "
        "does there. Do not suggest changing the code."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


# "What does f(x) return?", "what will g(1, 2) give", "What is the output of f('a')?"
_CALL = re.compile(
    r"^\s*what\s+(?:(?:does|will|would)\s+(?P<a>.+?)\s+(?:return|give|output|evaluate\s+to)"
    r"|is\s+(?:the\s+)?(?:output|result|value|return\s+value)\s+of\s+(?P<b>.+?))\s*\??\s*$",
    re.I,
)


def call_in(question: str) -> str | None:
    """The call a value question asks about ("f([1, 2])"), when it is one Python call."""
    found = _CALL.match(question)
    text = found and (found.group("a") or found.group("b")).strip().strip("`")
    if not text:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    return text if isinstance(tree.body, ast.Call) else None
