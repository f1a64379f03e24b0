"""Exact execution traces: a function run on its input under `sys.settrace`, written in the
step-by-step form ponder's prompts ask the model for (prompts.TRACE_HINT: one short line per
executed statement or loop iteration, with the values of the variables that changed, then the
return value). Training on them teaches the model to write the intermediate states a serial
computation needs ("length over depth"), with every value right.

The function runs only in a confined child (agent/confine.py): the script below is what the
child runs; the parent parses the one JSON line it prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ponder.agent import confine

LIMITS = confine.Limits(cpu_s=2, wall_s=5.0, memory_mb=1024, output_bytes=1 << 20)


@dataclass(frozen=True)
class Bounds:
    steps: int = 40  # lines of trace at most; then tracing stops and the function runs on
    repeats: int = 4  # times one statement is shown (a loop: its first iterations)
    width: int = 60  # characters of one value's repr


@dataclass(frozen=True)
class Trace:
    steps: list[str]  # the trace's lines
    output: str | None  # repr of the return value; None when the call raised
    error: str  # "ValueError: ..." when it raised, or why the run was stopped
    cut: bool  # a bound was hit: some steps are not shown

    @property
    def text(self) -> str:
        return "\n".join(self.steps)


# Run in the child: reads {"code", "call", "bounds"} on stdin, prints one JSON line. Frames of
# the traced code are those compiled from "<code>"; comprehensions and lambdas ("<listcomp>")
# are not followed step by step, their effect shows on the line that made them. A test (`if`,
# `elif`, `while`) says whether it held and a `for` says when it is done, read off the line that
# runs next: the step a model must compute, and the one it got wrong when traces left it out.
_TRACER = r'''
import ast, io, json, sys

real_stdout, sys.stdout = sys.stdout, io.StringIO()  # what the function prints is not the reply
request = json.loads(sys.stdin.read())
code, call = request["code"], request["call"]
STEPS, REPEATS, WIDTH = request["steps"], request["repeats"], request["width"]
source = code.splitlines()
steps, frames, shown, cut = [], {}, {}, [False]
# The line of each one-line if/elif/while/for head whose body starts below it: (the body's
# lines, a for?). A head over several lines may run line by line: it is not read.
branches = {
    node.lineno: (range(node.body[0].lineno, node.body[-1].end_lineno + 1), isinstance(node, ast.For))
    for node in ast.walk(ast.parse(code))
    if isinstance(node, (ast.If, ast.While, ast.For))
    and (node.iter if isinstance(node, ast.For) else node.test).end_lineno == node.lineno
    and node.body[0].lineno > node.lineno
}


def outcome(line, next_line):
    """What the test on `line` decided, seen from the line that ran next (None: the function
    returned)."""
    if line not in branches:
        return ""
    body, is_for = branches[line]
    if is_for:
        return "" if next_line in body else "no more items"
    return "True" if next_line in body else "False"


def short(value):
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= WIDTH else text[: WIDTH - 3] + "..."


def state(frame):
    return {k: short(v) for k, v in frame.f_locals.items() if not k.startswith("__")}


def say(depth, text):
    if len(steps) < STEPS:
        steps.append("  " * depth + text)
    elif not cut[0]:
        cut[0] = True
        steps.append("  " * depth + "... (the trace stops here; the function runs on)")
        sys.settrace(None)


class Frame:
    def __init__(self, frame, depth):
        self.depth, self.line, self.before, self.raised = depth, None, state(frame), None

    def finish_line(self, frame, extra=""):
        """The step of the line that just ran: its statement and what it changed."""
        if self.line is None:
            return
        now = state(frame)
        changed = [f"{k} = {v}" for k, v in now.items() if self.before.get(k) != v]
        self.before = now
        statement = source[self.line - 1].strip() if 0 < self.line <= len(source) else "?"
        key = (frame.f_code, self.line)
        shown[key] = shown.get(key, 0) + 1
        if shown[key] > REPEATS:
            if shown[key] == REPEATS + 1:
                say(self.depth, f"... (`{statement}` runs again: not shown)")
            return
        parts = [", ".join(changed)] if changed else []
        parts += [extra] if extra else []
        say(self.depth, f"`{statement}`" + (f" → {'; '.join(parts)}" if parts else ""))


def trace(frame, event, arg):
    """A traced frame's events: each line ends the step of the line before it."""
    if cut[0]:
        return None
    me = frames.get(id(frame))
    if event == "line":  # an exception the last line raised was caught: say so
        me.finish_line(frame, me.raised or outcome(me.line, frame.f_lineno))
        me.line, me.raised = frame.f_lineno, None
    elif event == "exception":
        me.raised = f"raises {arg[0].__name__}: {short(str(arg[1]))}"
    elif event == "return":
        if me.raised:  # the exception leaves the function
            me.finish_line(frame, me.raised)
        else:
            decided = outcome(me.line, None)
            me.finish_line(frame, (decided + "; " if decided else "") + f"returns {short(arg)}")
        frames.pop(id(frame), None)
    return trace


def on_call(frame, event, arg):
    if frame.f_code.co_filename != "<code>" or frame.f_code.co_name.startswith("<"):
        return None
    depth = len(frames)
    args = ", ".join(f"{k}={v}" for k, v in state(frame).items())
    say(depth, f"call {frame.f_code.co_name}({args})")
    frames[id(frame)] = Frame(frame, depth)
    return trace


namespace = {"__name__": "traced"}
try:
    exec(compile(code, "<code>", "exec"), namespace)
    call_code = compile(call, "<call>", "eval")
except BaseException as e:  # an import that fails, a syntax error: nothing was called
    reply = {"steps": [], "output": None, "error": f"the code did not load: {type(e).__name__}: {str(e)[:200]}", "cut": False}
    print(json.dumps(reply), file=real_stdout)
    sys.exit(0)
output, error = None, ""
sys.settrace(on_call)
try:
    output = repr(eval(call_code, namespace))
except BaseException as e:
    error = f"{type(e).__name__}: {str(e)[:200]}"
finally:
    sys.settrace(None)
print(json.dumps({"steps": steps, "output": output, "error": error, "cut": cut[0]}), file=real_stdout)
'''


def trace_call(code: str, call: str, bounds: Bounds = Bounds()) -> Trace:
    """The trace of `call` ("f(1, 2)") after running `code`, confined. A call that loops or
    allocates past its limits comes back with `error` saying so and no output."""
    request = {"code": code, "call": call, **bounds.__dict__}
    done = confine.run_python(_TRACER, stdin=json.dumps(request), limits=LIMITS)
    found = done.json_line()
    if found is None:
        why = done.why or "printed something besides the trace"
        return Trace([], None, f"stopped: {why}", True)
    return Trace(found["steps"], found["output"], found["error"], found["cut"])
