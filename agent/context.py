"""What code the model sees: the selection, its enclosing definition, the file's imports, and the
definitions in the same file of names the selection calls, trimmed to a budget (selection kept).

Parsing is tree-sitter through tree-sitter-language-pack 0.13.0 (it bundles every grammar, so it
works offline). A language it does not know falls back to a window of lines around the selection.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache

CHARS_PER_TOKEN = 3.5  # rough, for budgeting before the model's tokenizer is at hand
WINDOW_LINES = 40

# LSP languageId → tree-sitter-language-pack name, where they differ.
LANGUAGE_ALIASES = {
    "typescriptreact": "tsx",
    "javascriptreact": "javascript",
    "shellscript": "bash",
    "sh": "bash",
    "c++": "cpp",
    "csharp": "csharp",
    "py": "python",
    "js": "javascript",
    "ts": "typescript",
}
EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".rs": "rust",
    ".go": "go",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".lua": "lua",
    ".java": "java",
    ".rb": "ruby",
    ".sh": "bash",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".swift": "swift",
    ".php": "php",
}

_DEFINITION = re.compile(
    r"^(function|method|class|impl|struct|interface|trait|enum|module|decorated)"
    r"(_definition|_declaration|_item|_specifier|_signature)?$"
    r"|^(function_definition|method_definition|arrow_function|function_expression)$"
)
_IMPORT = re.compile(r"import|include|use_declaration|require|using_directive|package_clause")
_CALL = re.compile(r"call|invocation")


@dataclass(frozen=True)
class CodeContext:
    code: str  # what the model is shown
    selection: str  # the selected text (or the enclosing definition, for a bare position)
    language: str
    symbol: str | None  # name of the enclosing definition, when there is one


def language_for(language_id: str | None, path: str = "") -> str:
    lang = (language_id or "").lower()
    if not lang or lang == "plaintext":
        for ext, name in EXTENSIONS.items():
            if path.endswith(ext):
                return name
    return LANGUAGE_ALIASES.get(lang, lang)


@lru_cache(maxsize=32)
def _parser(language: str):
    try:
        from tree_sitter_language_pack import get_parser

        return get_parser(language)  # type: ignore[arg-type]
    except Exception:  # unknown language (LookupError, or the pack's own error types)
        return None


def build(
    text: str,
    language: str,
    start: int,
    end: int,
    budget_tokens: int = 1500,
) -> CodeContext:
    """Context for the selection text[start:end] (start == end: a position)."""
    budget = int(budget_tokens * CHARS_PER_TOKEN)
    parser = _parser(language) if language else None
    if parser is None:
        return _window(text, language, start, end, budget)
    data = text.encode("utf-8")
    b_start, b_end = len(text[:start].encode()), len(text[:end].encode())
    tree = parser.parse(data)
    root = tree.root_node
    node = root.descendant_for_byte_range(b_start, max(b_start, b_end - 1))
    enclosing = _enclosing_definition(node)
    if start == end:
        if enclosing is None:
            return _window(text, language, start, end, budget)
        selection = _block(data, enclosing)
    else:
        selection = text[start:end]
    # Priority: the selection (always), its enclosing definition, imports, callee definitions.
    main = selection
    room = budget - len(selection)
    if enclosing is not None:
        body = _block(data, enclosing)
        if body != selection and len(body) - len(selection) <= room:
            main, room = body, room - (len(body) - len(selection))
    imports = "\n".join(_text(data, n) for n in root.children if _IMPORT.search(n.type))
    if len(imports) > room:
        imports = ""
    room -= len(imports)
    callees = []
    for callee in _callee_definitions(root, enclosing or node, data):
        callee_text = _block(data, callee)
        if callee_text not in main and len(callee_text) <= room:
            callees.append(callee_text)
            room -= len(callee_text)
    code = "\n\n".join(piece for piece in (imports, *callees, main) if piece)
    symbol = _name(enclosing, data) if enclosing is not None else None
    return CodeContext(code, selection, language, symbol)


def _window(text: str, language: str, start: int, end: int, budget: int) -> CodeContext:
    lines = text.splitlines(keepends=True)
    first = text[:start].count("\n")
    last = text[:end].count("\n")
    lo, hi = max(0, first - WINDOW_LINES // 2), min(len(lines), last + WINDOW_LINES // 2 + 1)
    selection = text[start:end] if end > start else "".join(lines[first : first + 1])
    code = "".join(lines[lo:hi])
    while len(code) > budget and hi - lo > last - first + 1:  # shrink the window, keep selection
        lo, hi = min(first, lo + 1), max(last + 1, hi - 1)
        code = "".join(lines[lo:hi])
    return CodeContext(code, selection, language, None)


def _text(data: bytes, node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")


def _block(data: bytes, node) -> str:
    """A definition's source from the start of its first line, dedented."""
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    return textwrap.dedent(data[line_start : node.end_byte].decode("utf-8", errors="replace"))


def _enclosing_definition(node):
    while node is not None:
        if _DEFINITION.match(node.type) and node.start_point[0] != node.end_point[0]:
            # A decorated Python definition: keep the decorator with it.
            parent = node.parent
            if parent is not None and parent.type == "decorated_definition":
                return parent
            return node
        node = node.parent
    return None


def _name(node, data: bytes) -> str | None:
    target = node
    if node.type == "decorated_definition":
        target = node.child_by_field_name("definition") or node
    name = target.child_by_field_name("name")
    if name is None:
        declarator = target.child_by_field_name("declarator")  # C/C++: int f(int x) {...}
        while declarator is not None and declarator.child_by_field_name("declarator") is not None:
            declarator = declarator.child_by_field_name("declarator")
        name = declarator
    return _text(data, name) if name is not None else None


def _called_names(scope, data: bytes) -> list[str]:
    names: list[str] = []
    stack = [scope]
    while stack:
        node = stack.pop()
        if _CALL.search(node.type):
            fn = node.child_by_field_name("function") or node.child_by_field_name("name")
            if fn is None and node.named_child_count:
                fn = node.named_children[0]
            if fn is not None:
                ident = re.findall(r"[A-Za-z_]\w*", _text(data, fn))
                if ident and ident[-1] not in names:
                    names.append(ident[-1])
        stack.extend(reversed(node.children))
    return names


def _callee_definitions(root, scope, data: bytes):
    wanted = _called_names(scope, data)
    if not wanted:
        return []
    found = {}
    stack = list(root.children)
    while stack:
        node = stack.pop()
        if _DEFINITION.match(node.type):
            name = _name(node, data)
            if name in wanted and name not in found and node != scope:
                found[name] = node
        stack.extend(node.children)
    return [found[n] for n in wanted if n in found]
