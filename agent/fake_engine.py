"""A scripted engine for unit tests and UI work: no model, same interface as LlamaEngine.

`ScriptedEngine(["reasoning...\\nANSWER: 4"])` answers each path from the script in turn (cycling).
`delay` seconds per emitted word make it slow enough to cancel.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from ponder.agent.adapters import Adapter
from ponder.agent.engine import Completion, Messages, TokenCallback, _check


class ScriptedEngine:
    def __init__(self, script: list[str] | None = None, delay: float = 0.0, name: str = "scripted"):
        self.script = script or ["The code adds its two arguments.\nANSWER: it returns a + b"]
        self.delay = delay
        self.name = name
        self.speculation = "off"  # the real engine's setting; nothing to speculate here
        self.adapter: Adapter | None = None
        self.adapter_problem: str | None = None
        self.batches_cheaply = True  # paths cost nothing here; tests set False for a CPU's schedule
        self.calls: deque[dict] = deque(maxlen=50)  # the latest calls, for tests; bounded
        self.lock = threading.RLock()
        self._next = 0

    def load(self) -> None:
        return None

    def close(self) -> None:
        return None

    def _complete(self, messages, k, cancel, on_token, max_tokens, answer_tag) -> list[Completion]:
        prompt_tokens = sum(len(m["content"].split()) for m in messages)
        out = []
        generated = 0
        for seq in range(k):
            text = self.script[self._next % len(self.script)]
            self._next += 1
            words = text.split(" ")[:max_tokens]
            c = Completion(text="", prompt_tokens=prompt_tokens)
            for i, word in enumerate(words):
                _check(cancel)
                if self.delay:
                    time.sleep(self.delay)
                c.offsets.append(len(c.text))
                c.text += ("" if i == 0 else " ") + word
                c.tokens.append(i)
                c.probs.append(0.9)
                c.margins.append(0.8)
                generated += 1
                if on_token:
                    on_token(seq, c.text, generated)
            c.finish_reason = "stop" if len(words) < max_tokens else "length"
            if c.finish_reason == "length" and answer_tag and answer_tag not in c.text:
                # Like the real engine: a cut-off path is made to write its answer line, here
                # taken from the next script entry.
                tail = self.script[self._next % len(self.script)]
                self._next += 1
                c.offsets.append(len(c.text))
                c.text += f"\n\n{answer_tag} {tail}"
                c.tokens.append(0)
                c.probs.append(0.9)
                c.margins.append(0.8)
                c.concluded = True
            out.append(c)
        return out

    def sample(
        self,
        messages: Messages,
        *,
        k=1,
        temperature=0.0,
        top_p=0.95,
        max_tokens=512,
        stop=(),
        seed=0,
        cancel=None,
        on_token: TokenCallback | None = None,
        greedy_first=False,
        answer_tag=None,
        stop_when=None,
    ):
        with self.lock:
            self.calls.append(
                {
                    "kind": "sample",
                    "messages": messages,
                    "k": k,
                    "seed": seed,
                    "temperature": temperature,
                    "greedy_first": greedy_first,
                }
            )
            paths = self._complete(messages, k, cancel, on_token, max_tokens, answer_tag)
            # Like the real engine, which decodes in lockstep: paths finish shortest first.
            if stop_when:
                order = sorted(range(k), key=lambda i: len(paths[i].tokens))
                for n in range(1, k):
                    if stop_when([paths[i] for i in order[:n]], k - n):
                        for i in order[n:]:
                            paths[i].finish_reason = "stopped"
                        break
            return paths

    def branch(
        self,
        messages: Messages,
        *,
        k=5,
        max_tokens=512,
        stop=(),
        cancel=None,
        on_token: TokenCallback | None = None,
        answer_tag=None,
    ):
        with self.lock:
            self.calls.append({"kind": "branch", "messages": messages, "k": k})
            return self._complete(messages, k, cancel, on_token, max_tokens, answer_tag)
