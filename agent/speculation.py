"""Prompt-lookup drafting (n-gram speculation) for the batched decode loop.

A reasoning trace copies a lot: names, literals and whole lines of the code it explains, and its
own earlier lines. For a greedy path, `Drafter.propose` looks up the path's last n tokens (n = 3,
then 2) in the prompt and in what the path has written, and proposes the tokens that followed
their latest earlier occurrence. The engine feeds them in the same `llama_decode` as the path's
next token, keeps the longest prefix the model's own argmax agrees with, and drops the KV cells of
the rest: greedy output is token for token what it would be without speculation.

The draft length adapts per path (as llama.cpp's n-gram speculation does): it grows while drafts
are accepted in full and falls back when one is rejected, so prose that copies nothing costs at
most one extra token per step, and only when an n-gram matched.
"""

from __future__ import annotations

NGRAM_SIZES = (3, 2)
MAX_DRAFT = 8
START_DRAFT = 3


class Drafter:
    def __init__(self, prompt: list[int]):
        self.tokens = list(prompt)  # the prompt, then the path's tokens
        self.length = START_DRAFT
        self.proposed = 0  # totals, for the benchmark
        self.accepted = 0
        # n-gram → the index just after its latest occurrence (whose token exists).
        self.index: dict[tuple[int, ...], int] = {}
        for end in range(1, len(self.tokens)):
            self._index_ending_at(end - 1)

    def _index_ending_at(self, last: int) -> None:
        for n in NGRAM_SIZES:
            if last + 1 >= n:
                self.index[tuple(self.tokens[last + 1 - n : last + 1])] = last + 1

    def add(self, token: int) -> None:
        """The path's next token (call for every token, drafted or not, in order)."""
        self.tokens.append(token)
        if len(self.tokens) >= 2:
            self._index_ending_at(len(self.tokens) - 2)

    def propose(self, limit: int) -> list[int]:
        """Up to min(draft length, limit) tokens likely to follow; [] when nothing matches."""
        limit = min(self.length, limit)
        if limit <= 0:
            return []
        for n in NGRAM_SIZES:
            if len(self.tokens) < n:
                continue
            at = self.index.get(tuple(self.tokens[-n:]))
            if at is not None:
                draft = self.tokens[at : at + limit]
                self.proposed += len(draft)
                return draft
        return []

    def accept(self, proposed: int, accepted: int) -> None:
        """How a draft fared: adapt the length."""
        self.accepted += accepted
        if accepted == proposed:
            self.length = min(MAX_DRAFT, self.length + 2)
        else:
            self.length = max(1, accepted + 1)
