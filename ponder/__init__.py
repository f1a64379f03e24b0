"""ponder: a local reasoning language server.

One import name for the whole distribution. Its subpackages live in the repository's top-level
folders (setuptools `package-dir` in pyproject.toml maps them):

    ponder.server  ← server/   the LSP adapter and the `ponder` command line
    ponder.agent   ← agent/    reasoning: context, prompts, strategies, engines, evaluation
    ponder.memory  ← memory/   the trace store (LanceDB) and the embedder
"""

VERSION = "0.1.0"  # pyproject.toml's version (a test keeps them equal); no metadata lookup at start
