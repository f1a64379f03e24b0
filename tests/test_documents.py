from ponder.agent.results import FirstAnswer
from ponder.server.documents import Attached, Documents

TEXT = "a = 1\n\ndef f(x):\n    return x + a\n\nprint(f(2))\n"


def docs_with_answer() -> tuple[Documents, Attached]:
    docs = Documents()
    docs.open("u", TEXT)
    start = TEXT.index("def f")
    answer = Attached("id1", start, TEXT.index("\n\nprint") + 1, result=FirstAnswer("3"))
    docs.attach("u", answer)
    return docs, answer


def test_an_edit_above_shifts_the_answer():
    docs, answer = docs_with_answer()
    assert docs.hint_position("u", answer) == (3, 16)  # end of `    return x + a`
    assert not docs.change("u", [((0, 0, 0, 0), "# header\n# more\n")])
    assert docs.get("u").text[answer.start : answer.start + 5] == "def f"
    assert docs.hint_position("u", answer) == (5, 16) and not answer.stale


def test_an_edit_inside_marks_it_stale_once_and_one_below_does_nothing():
    docs, answer = docs_with_answer()
    assert not docs.change("u", [((5, 0, 5, 5), "debug")])
    assert not answer.stale
    assert docs.change("u", [((3, 15, 3, 16), "b")])  # `a` → `b` inside the function
    assert answer.stale
    assert not docs.change("u", [((3, 15, 3, 16), "c")])  # already stale: no second refresh


def test_full_text_replacement_and_close():
    docs, answer = docs_with_answer()
    assert docs.change("u", [(None, "x = 2\n")])
    assert answer.stale and answer.end <= len("x = 2\n")
    docs.close("u")
    assert docs.answered("u") == [] and docs.answer_at("u", 0) is None


def test_positions_count_utf16_units_and_answers_are_capped():
    docs = Documents(answers_per_document=2)
    docs.open("u", "s = '😀'\nt = 1\n")
    docs.change("u", [((0, 7, 0, 7), "!")])  # after the emoji's two units
    assert docs.get("u").text.startswith("s = '😀!'")
    for i in range(3):
        docs.attach("u", Attached(f"a{i}", i, i + 1, result={}))
    assert [a.id for a in docs.answered("u")] == ["a1", "a2"]
    assert docs.answer_at("u", 2).id == "a2"
    assert docs.offset("u", 99, 0) is None


def test_a_document_over_the_cap_is_not_kept_and_can_come_back():
    from ponder.server.documents import MAX_DOCUMENT_CHARS

    docs = Documents()
    docs.open("u", "x" * (MAX_DOCUMENT_CHARS + 1))
    assert docs.get("u").size == MAX_DOCUMENT_CHARS + 1 and docs.get("u").text == ""
    docs.change("u", [((0, 0, 0, 0), "y")])  # an edit of a document too large: ignored
    assert docs.get("u").size
    docs.change("u", [(None, "small = 1\n")])
    assert docs.get("u").text == "small = 1\n" and not docs.get("u").size


def test_the_hint_goes_at_the_end_of_the_last_line_whatever_the_line_breaks():
    for nl in ("\n", "\r\n", "\r"):
        text = f"def f():{nl}    return 1{nl}{nl}x = 2{nl}"
        docs = Documents()
        docs.open("u", text)
        whole_lines = Attached("a", 0, text.index("x") - len(nl), result={})
        inside = Attached("b", 0, text.index("return") + 3, result={})
        assert docs.hint_position("u", whole_lines) == (1, 12), repr(nl)
        assert docs.hint_position("u", inside) == (1, 12), repr(nl)


def test_open_documents_are_kept_once_by_ponder_and_not_again_by_pygls():
    from lsprotocol import types

    from ponder.agent.settings import Settings
    from ponder.server.app import create_server

    server = create_server(Settings(model="scripted"))
    protocol = server.protocol
    next(protocol.lsp_initialize(types.InitializeParams(capabilities=types.ClientCapabilities())))
    item = types.TextDocumentItem("file:///a.py", "python", 1, "x = 1\n")
    edit = types.TextDocumentContentChangeWholeDocument("y = 2\n")
    for notified in (
        protocol.lsp_text_document__did_open(types.DidOpenTextDocumentParams(item)),
        protocol.lsp_text_document__did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(2, "file:///a.py"), [edit]
            )
        ),
    ):
        for handler, args, _ in notified:
            handler(*args)
    document = server.documents.get("file:///a.py")
    assert document is not None and document.text == "y = 2\n"
    assert server.workspace.text_documents == {}
