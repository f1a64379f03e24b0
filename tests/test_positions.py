from ponder.agent.positions import offset_of, position_of, split_lines


def test_only_lsp_line_breaks_split_lines():
    text = "a\fb\u2028c\r\nd\re\nf"
    assert split_lines(text) == ["a\fb\u2028c\r\n", "d\r", "e\n", "f"]
    assert offset_of(text, 1, 0) == text.index("d")
    assert offset_of(text, 3, 1) == len(text)


def test_characters_are_utf16_units_by_default():
    text = "x = '😀é' + y\n"
    after_emoji = text.index("é")
    assert offset_of(text, 0, 7) == after_emoji  # x = ' is 5 units, the emoji 2
    assert offset_of(text, 0, 7, encoding="utf-32") == after_emoji + 1
    assert offset_of(text, 0, 9, encoding="utf-8") == after_emoji
    assert position_of(text, after_emoji) == (0, 7)
    assert position_of(text, text.index("y"), encoding="utf-8") == (0, 15)


def test_positions_clamp_to_the_line_and_the_text():
    text = "ab\ncd\n"
    assert offset_of(text, 0, 99) == 2
    assert offset_of(text, 7, 0) == len(text)
    assert position_of(text, 99) == (2, 0)
    for offset in range(len(text) + 1):
        assert offset_of(text, *position_of(text, offset)) == offset
