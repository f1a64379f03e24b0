"""`ponder memory`: list, search, show, forget, export, import, stats."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ponder.agent.errors import PonderError
from ponder.agent.settings import EMBEDDERS, defaults
from ponder.server.cli.arguments import at_least
from ponder.server.cli.files import check_writable


def add_command(sub) -> None:
    memory = sub.add_parser(
        "memory", help="the memory of accepted reasoning (list, search, export...)"
    )
    memory.add_argument("--path", help="store path or LanceDB URI (default $PONDER_HOME/memory)")
    memory.add_argument("--embedder", choices=EMBEDDERS, default="minilm")
    memory.set_defaults(run=memory_main)
    actions = memory.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the most recent traces").add_argument(
        "--limit", type=at_least(1), default=20
    )
    actions.add_parser("search", help="accepted traces similar to a query").add_argument("query")
    actions.add_parser("show", help="one trace in full").add_argument("id")
    actions.add_parser("forget", help="delete one trace").add_argument("id")
    export = actions.add_parser("export", help="write every trace as JSONL")
    export.add_argument("file")
    export.add_argument(
        "--format",
        choices=["traces", "chat"],
        default="traces",
        help="chat: accepted traces as chat-format training examples",
    )
    actions.add_parser("import", help="read traces from an export").add_argument("file")
    actions.add_parser("stats", help="counts, indices, embedder")


def memory_main(args) -> None:
    from ponder.agent.prompts import chat_example
    from ponder.agent.services import memory_uri
    from ponder.memory.embedder import make_embedder
    from ponder.memory.store import TraceStore

    # Checked before the store opens (and its embedder loads).
    if args.action == "export":
        check_writable(Path(args.file))
    settings = defaults()
    uri = args.path or memory_uri(settings)
    store = TraceStore(uri, make_embedder(args.embedder)).open()
    if args.action == "list":
        traces = store.all(args.limit)
        for t in traces:
            mark = "+" if t["accepted"] else "-"
            print(
                f"{t['id']} {mark} {t['created_at']}  {t['question'][:50]!r} → {t['answer'][:40]!r}"
            )
        if not traces:
            print(f"no traces in {uri}", file=sys.stderr)
    elif args.action == "search":
        found = store.search(args.query, k=10, threshold=0.0)
        for t in found:
            print(f"{t['id']} {t['similarity']:.3f}  {t['question'][:50]!r} → {t['answer'][:40]!r}")
        if not found:
            print(f"no traces in {uri}", file=sys.stderr)
    elif args.action == "show":
        trace = store.get(args.id)
        if trace is None:
            raise PonderError(f"no trace {args.id} in {uri}")
        print(json.dumps(trace, indent=2, ensure_ascii=False))
    elif args.action == "forget":
        if not store.forget(args.id):
            raise PonderError(f"no trace {args.id} in {uri}")
        print(f"forgot {args.id}")
    elif args.action == "export":
        count = store.export(
            Path(args.file), as_chat=chat_example if args.format == "chat" else None
        )
        print(f"wrote {count} {'examples' if args.format == 'chat' else 'traces'} to {args.file}")
    elif args.action == "import":
        path = Path(args.file)
        if not path.is_file():
            raise PonderError(f"no such file: {path}")
        print(f"imported {store.import_(path)} traces into {uri}")
    elif args.action == "stats":
        print(json.dumps(store.stats(), indent=2))
