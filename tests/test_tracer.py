"""The tracer: exact execution traces in the step-by-step form ponder's prompts ask for, run
confined (the function is data, never trusted)."""

from ponder.agent.learning.tracer import Bounds, trace_call

LOOP = """def f(xs):
    total = 0
    for x in xs:
        total += x
    return total
"""


def test_a_loop_is_shown_iteration_by_iteration_with_the_values_that_changed():
    trace = trace_call(LOOP, "f([1, 2, 3])")
    assert trace.output == "6" and trace.error == "" and not trace.cut
    assert trace.steps == [
        "call f(xs=[1, 2, 3])",
        "`total = 0` → total = 0",
        "`for x in xs:` → x = 1",
        "`total += x` → total = 1",
        "`for x in xs:` → x = 2",
        "`total += x` → total = 3",
        "`for x in xs:` → x = 3",
        "`total += x` → total = 6",
        "`for x in xs:` → no more items",
        "`return total` → returns 6",
    ]


def test_each_test_says_whether_it_held_read_off_the_line_that_ran_next():
    code = (
        "def f(n, xs):\n    while n > 3:\n        n -= 2\n    for x in xs:\n"
        "        if (x %\n                2):\n            n += x\n        elif x:\n"
        "            n -= 1\n    if n == 0:\n        n = 5\n"
    )
    trace = trace_call(code, "f(6, [2, 3])")
    assert trace.output == "None"
    assert trace.steps[1:4] == [
        "`while n > 3:` → True",
        "`n -= 2` → n = 4",
        "`while n > 3:` → True",
    ]
    assert "`while n > 3:` → False" in trace.steps
    assert "`elif x:` → True" in trace.steps  # x = 2: the if was false, the elif held
    assert "`for x in xs:` → no more items" in trace.steps
    assert not any(
        s.startswith("`if (x %`") and "→" in s for s in trace.steps
    )  # two lines: not read
    assert trace.steps[-1] == "`if n == 0:` → False; returns None"


def test_a_long_loop_shows_its_first_iterations_then_says_the_rest_are_not_shown():
    trace = trace_call(LOOP, "f(list(range(100)))", Bounds(steps=40, repeats=3))
    assert trace.output == "4950" and not trace.cut
    assert trace.steps.count("... (`total += x` runs again: not shown)") == 1
    assert sum(1 for s in trace.steps if s.startswith("`total += x`")) == 3
    assert trace.steps[-1] == "`return total` → returns 4950"  # the answer line is never cut


def test_the_step_bound_cuts_the_trace_and_the_function_still_runs_to_its_answer():
    trace = trace_call(LOOP, "f(list(range(100)))", Bounds(steps=5, repeats=100))
    assert trace.cut and trace.output == "4950" and len(trace.steps) == 6
    assert trace.steps[-1].startswith("... (the trace stops here")


def test_recursion_is_indented_by_depth():
    code = "def f(n):\n    if n <= 1:\n        return 1\n    return n * f(n - 1)\n"
    trace = trace_call(code, "f(3)")
    assert trace.output == "6"
    assert "  call f(n=2)" in trace.steps and "    call f(n=1)" in trace.steps
    assert trace.steps[-1] == "`return n * f(n - 1)` → returns 6"
    assert "    `if n <= 1:` → True" in trace.steps and "`if n <= 1:` → False" in trace.steps


def test_a_caught_exception_is_shown_where_it_was_raised():
    code = (
        "def f(x):\n    try:\n        y = 1 // x\n    except ZeroDivisionError:\n"
        "        y = -1\n    return y\n"
    )
    trace = trace_call(code, "f(0)")
    assert trace.output == "-1"
    assert "`y = 1 // x` → raises ZeroDivisionError: 'integer division or modulo by zero'" in (
        trace.steps
    )


def test_an_exception_that_leaves_the_call_gives_no_output_and_says_why():
    trace = trace_call("def f(xs):\n    return xs[5]\n", "f([1])")
    assert trace.output is None and trace.error == "IndexError: list index out of range"
    assert trace.steps[-1] == "`return xs[5]` → raises IndexError: 'list index out of range'"


def test_what_the_function_prints_does_not_break_the_reply():
    trace = trace_call("def f(x):\n    print('hello')\n    return x\n", "f(2)")
    assert trace.output == "2" and trace.error == ""


def test_a_function_that_never_ends_or_allocates_without_limit_is_stopped():
    forever = trace_call("def f():\n    while True:\n        pass\n", "f()")
    assert forever.output is None and forever.error == "stopped: ran past its CPU-time limit"
    hog = trace_call("def f():\n    return bytearray(8 * 1024**3)\n", "f()")
    assert hog.output is None and hog.error.startswith("MemoryError")
