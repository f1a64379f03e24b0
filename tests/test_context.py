from ponder.agent.context import build, language_for

PY = """import os
from math import sqrt

def helper(x):
    return x * 2

class Shape:
    def area(self, y):
        z = helper(y)
        return sqrt(z)
"""


def at(text, needle):
    i = text.index(needle)
    return i, i + len(needle)


def test_python_enclosing_method_imports_and_callees():
    start, _ = at(PY, "z = helper")
    ctx = build(PY, "python", start, start)
    assert ctx.symbol == "area"
    assert ctx.selection.startswith("def area(self, y):")
    assert "import os" in ctx.code and "def helper(x):" in ctx.code
    assert ctx.code.index("def helper") < ctx.code.index("def area")


def test_selection_is_always_kept_under_a_tiny_budget():
    start, end = at(PY, "z = helper(y)\n        return sqrt(z)")
    ctx = build(PY, "python", start, end, budget_tokens=5)
    assert "return sqrt(z)" in ctx.code
    assert "import os" not in ctx.code


def test_javascript_and_typescript():
    js = "import x from 'y';\nfunction g(a) { return a + 1 }\nfunction f(b) {\n  return g(b) * 2;\n}\n"
    start, _ = at(js, "return g")
    ctx = build(js, "javascript", start, start)
    assert ctx.symbol == "f" and "function g(a)" in ctx.code and "import x" in ctx.code
    ts = "function g(a: number): number {\n  return a + 1\n}\nfunction f(b: number) {\n  return g(b);\n}\n"
    ctx = build(ts, language_for("typescript"), *[at(ts, "return g(b)")[0]] * 2)
    assert ctx.symbol == "f" and "function g" in ctx.code


def test_rust_go_c():
    rust = "use std::fmt;\nfn g(a: i32) -> i32 {\n    a + 1\n}\nfn f(b: i32) -> i32 {\n    g(b) * 2\n}\n"
    ctx = build(rust, "rust", *[at(rust, "g(b) * 2")[0]] * 2)
    assert ctx.symbol == "f" and "fn g" in ctx.code and "use std::fmt;" in ctx.code
    go = 'package main\nimport "fmt"\nfunc g(a int) int {\n\treturn a + 1\n}\nfunc f(b int) int {\n\treturn g(b)\n}\n'
    ctx = build(go, "go", *[at(go, "return g(b)")[0]] * 2)
    assert ctx.symbol == "f" and "func g" in ctx.code and 'import "fmt"' in ctx.code
    c = "#include <stdio.h>\nint g(int a) {\n  return a + 1;\n}\nint f(int b) {\n  return g(b);\n}\n"
    ctx = build(c, "c", *[at(c, "return g(b)")[0]] * 2)
    assert ctx.symbol == "f" and "int g(int a)" in ctx.code and "#include <stdio.h>" in ctx.code


def test_unknown_language_falls_back_to_a_window():
    text = "\n".join(f"line {i}" for i in range(200))
    start, _ = at(text, "line 100")
    ctx = build(text, "klingon", start, start)
    assert "line 100" in ctx.code and "line 0\n" not in ctx.code and ctx.symbol is None


def test_language_from_extension():
    assert language_for("", "a/b.rs") == "rust"
    assert language_for("typescriptreact") == "tsx"
