"""Run a program in a pseudo-terminal, keep its screen with pyte (a terminal emulator), and render
that screen to a PNG with Pillow: a real picture of what a terminal user sees (the Neovim test)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
FALLBACK = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # ⟹ and other arrows
CELL_W, CELL_H, FONT_SIZE = 9, 18, 15
DEFAULT_FG, DEFAULT_BG = (212, 212, 212), (24, 24, 27)
NAMED = {
    "black": (0, 0, 0), "red": (205, 49, 49), "green": (13, 188, 121), "brown": (229, 229, 16),
    "yellow": (229, 229, 16), "blue": (36, 114, 200), "magenta": (188, 63, 188),
    "cyan": (17, 168, 205), "white": (229, 229, 229),
}  # fmt: skip


class Terminal:
    """`command` in a columns x rows pseudo-terminal; `pump()` feeds its output to the screen."""

    def __init__(self, command: list[str], env: dict, columns: int = 110, rows: int = 32):
        import pyte

        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the program exited
                    return
                self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)

    def png(self, path: Path) -> None:
        from fontTools.ttLib import TTFont
        from PIL import Image, ImageDraw, ImageFont

        regular, bold = ImageFont.truetype(FONT, FONT_SIZE), ImageFont.truetype(BOLD, FONT_SIZE)
        fallback = ImageFont.truetype(FALLBACK, FONT_SIZE - 2)
        covered = set(TTFont(FONT).getBestCmap())
        screen = self.screen
        image = Image.new("RGB", (screen.columns * CELL_W, screen.lines * CELL_H), DEFAULT_BG)
        draw = ImageDraw.Draw(image)
        for y in range(screen.lines):
            row = screen.buffer[y]
            for x in range(screen.columns):
                cell = row[x]
                fg = _color(cell.fg, DEFAULT_FG)
                bg = _color(cell.bg, DEFAULT_BG)
                if cell.reverse:
                    fg, bg = bg, fg
                box = (x * CELL_W, y * CELL_H, (x + 1) * CELL_W, (y + 1) * CELL_H)
                if bg != DEFAULT_BG:
                    draw.rectangle(box, fill=bg)
                if cell.data.strip():
                    font = bold if cell.bold else regular
                    if ord(cell.data[0]) not in covered:
                        font = fallback
                    draw.text((box[0], box[1] + 1), cell.data, font=font, fill=fg)
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)


def _color(value: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if value == "default":
        return default
    if value in NAMED:
        return NAMED[value]
    if len(value) == 6:
        try:
            return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
        except ValueError:
            return default
    return default
