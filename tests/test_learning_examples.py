"""Training examples: only verified reasoning, never from a validation function, each asked
with the prompt ponder sends at inference."""

import dataclasses
import json
from pathlib import Path

import pytest

from ponder.agent import prompts
from ponder.agent.errors import PonderError
from ponder.agent.evaluation import harness
from ponder.agent.learning import examples

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "cruxeval-dev.jsonl"
LOOP = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"


def training_code(start: int = 0) -> str:
    """A function body the split puts on the training side."""
    n = start
    while harness.in_validation(LOOP + f"# {n}\n"):
        n += 1
    return LOOP + f"# {n}\n"


def validation_code() -> str:
    n = 0
    while not harness.in_validation(LOOP + f"# {n}\n"):
        n += 1
    return LOOP + f"# {n}\n"


def test_the_split_is_by_code_fixed_and_holds_out_enough_of_the_dev_split():
    items = harness.load_items(DEV)
    held = [i for i in items if harness.in_validation(i["code"])]
    assert 160 <= len(held) <= 230, len(held)  # the issue asks for >= 160 validation items
    # the same code, written with other spacing, falls on the same side
    code = held[0]["code"]
    assert harness.in_validation(code.replace("\n", "\n\n"))


def test_trace_examples_are_the_inference_prompt_and_an_exact_trace():
    item = {"id": "t1", "code": training_code(), "input": "[1, 2]", "output": "3"}
    found = list(examples.from_traces([item], inputs_per_item=3))
    assert len(found) == 3 and {e.source for e in found} == {"traces"}
    first = found[0]
    assert first.messages[:-1] == examples.prompt_for("What does f([1, 2]) return?", item["code"])
    answer = first.messages[-1]["content"]
    assert answer.splitlines()[-1] == f"{prompts.ANSWER_TAG} 3"
    assert "`total += x` → total = 3" in answer
    # the mutations are other inputs, each with the output running f gave
    assert len({e.messages[1]["content"] for e in found}) == 3


def test_a_function_whose_data_output_is_wrong_or_that_raises_gives_no_example():
    wrong = {"id": "w", "code": training_code(), "input": "[1, 2]", "output": "4"}
    raises = {"id": "r", "code": training_code(1).replace("return total", "return xs[9]"),
              "input": "[1]", "output": "1"}  # fmt: skip
    assert [e.function for e in examples.from_traces([wrong], 1)] == []
    assert [e.function for e in examples.from_traces([raises], 3)] == []


def test_validation_functions_give_no_example_from_any_source():
    code = validation_code()
    item = {"id": "v", "code": code, "input": "[1, 2]", "output": "3"}
    assert list(examples.from_traces([item])) == []
    path = {"correct": True, "text": "x\nANSWER: 3", "finish": "stop"}
    saved = [{"id": "v", "question": "What does f([1, 2]) return?", "paths": [path]}]
    assert list(examples.from_paths(saved, {"v": code})) == []
    trace = {"question": "q", "code": code, "answer": "3", "rationale": "r", "accepted": True}
    assert list(examples.from_memory([trace])) == []


def test_only_right_finished_paths_with_an_answer_line_are_kept_shortest_first():
    code = training_code()
    paths = [
        {"correct": True, "text": "long reasoning ...\nANSWER: 3", "finish": "stop"},
        {"correct": True, "text": "short\nANSWER: 3", "finish": "stop"},
        {"correct": True, "text": "short\nANSWER: 3", "finish": "stop"},  # a duplicate
        {"correct": True, "text": "cut off before the answer", "finish": "length"},
        {"correct": False, "text": "wrong\nANSWER: 4", "finish": "stop"},
    ]
    saved = [{"id": "a", "question": "What does f([1, 2]) return?", "paths": paths}]
    found = list(examples.from_paths(saved, {"a": code}, per_item=5))
    assert [e.messages[-1]["content"] for e in found] == [
        "short\nANSWER: 3", "long reasoning ...\nANSWER: 3",
    ]  # fmt: skip


def test_accepted_memory_traces_become_examples_and_rejected_ones_do_not():
    code = training_code()
    accepted = {"id": "m1", "question": "What does f([1]) return?", "code": code,
                "rationale": "total becomes 1", "answer": "1", "accepted": True}  # fmt: skip
    rejected = {**accepted, "id": "m2", "accepted": False}
    found = list(examples.from_memory([accepted, rejected]))
    assert [e.function for e in found] == ["m1"]
    assert found[0].messages[-1]["content"] == "total becomes 1\nANSWER: 1"
    assert json.dumps(found[0].record())  # a JSON line as written to examples.jsonl
    assert not found[0].verified
    checked = {**accepted, "tags": ["verified"]}  # checked by running before it was accepted
    assert next(examples.from_memory([checked])).verified


def test_learn_refuses_budgets_that_cannot_train_before_loading_anything(capsys):
    from ponder.server.cli import main

    for flag, value, said in (
        ("--epochs", "0", "argument --epochs: must be at least 1, got 0"),
        ("--rank", "-4", "argument --rank: must be at least 1, got -4"),
        ("--learning-rate", "0", "argument --learning-rate: must be above 0, got 0.0"),
        ("--checkpoint-every", "x", "argument --checkpoint-every: invalid integer value: 'x'"),
    ):
        with pytest.raises(SystemExit):
            main(["learn", "--from", "traces", "data.jsonl", flag, value])
        assert said in capsys.readouterr().err


def test_a_resumed_run_keeps_its_model_and_budget(tmp_path, capsys):
    """--resume goes on with what the run was asked (run.json), not the command line's defaults:
    another model is refused before anything loads."""
    from ponder.agent.learning import train
    from ponder.server.cli import main

    run = tmp_path / "run"
    run.mkdir()
    budget = train.Budget(max_tokens=640, learning_rate=2e-4, rank=8, alpha=16)
    about = {"model": "/models/other.gguf", "model_name": "other", **dataclasses.asdict(budget)}
    (run / "run.json").write_text(json.dumps(about))
    assert train.read_run(run) == ("/models/other.gguf", "other", budget)
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF")
    with pytest.raises(SystemExit):
        main(["learn", "--out", str(run), "--resume", "--model", str(model)])
    assert "trains /models/other.gguf" in capsys.readouterr().err
    (run / "run.json").write_text("{")
    with pytest.raises(SystemExit):
        main(["learn", "--out", str(run), "--resume", "--model", str(model)])
    assert "its run.json is missing or unreadable" in capsys.readouterr().err


def test_a_lower_rank_adapter_is_the_best_approximation_of_that_rank():
    import torch  # the learn extra: make setup and make test install it

    from ponder.agent.learning.export import lower_rank

    torch.manual_seed(0)
    a, b = torch.randn(16, 64), torch.randn(40, 16)
    low, alpha, kept = lower_rank({"m.lora_A.weight": a, "m.lora_B.weight": b}, 32.0, 8)
    update = (32 / 16) * b @ a
    u, s, vh = torch.linalg.svd(update)
    best = (u[:, :8] * s[:8]) @ vh[:8]
    approx = (alpha / 8) * low["m.lora_B.weight"] @ low["m.lora_A.weight"]
    assert low["m.lora_A.weight"].shape == (8, 64) and low["m.lora_B.weight"].shape == (40, 8)
    assert torch.allclose(approx, best, atol=1e-4)
    assert kept == pytest.approx(float((s[:8] ** 2).sum() / (s**2).sum()), rel=1e-6)
    with pytest.raises(PonderError, match="not below the adapter's rank 16"):
        lower_rank({"m.lora_A.weight": a, "m.lora_B.weight": b}, 32.0, 16)
