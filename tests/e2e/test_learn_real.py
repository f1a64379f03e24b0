"""`ponder learn` for real on the test model: accepted traces from a real memory store and the
tracer's exact traces, real training steps (transformers + peft), a checkpoint resumed after a
stop, and the exported adapter loaded by llama.cpp, where it changes the model's next-token
distribution the way the trained adapter does in transformers."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ponder.agent import models
from ponder.agent.learning import examples, train
from ponder.memory.embedder import make_embedder
from ponder.memory.store import TraceStore
from tests.conftest import TEST_MODEL
from tests.test_learning_examples import training_code

FAST = train.Budget(epochs=3, max_tokens=400, learning_rate=1e-3, rank=4, alpha=8, checkpoint_every=2)  # fmt: skip


def _items(n: int) -> list[dict]:
    return [
        {"id": f"i{k}", "code": training_code(k), "input": f"[{k}, {k + 1}]", "output": str(2 * k + 1)}
        for k in range(n)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    import os

    os.environ["PONDER_HOME"] = str(tmp_path_factory.mktemp("home"))
    return models.resolve(TEST_MODEL).path


@pytest.fixture(scope="module")
def records() -> list[dict]:
    found = [e.record() for e in examples.from_traces(_items(2), inputs_per_item=1)]
    assert len(found) == 2
    return found


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory, model_path, records) -> train.Trained:
    """A run that was never stopped."""
    return train.train(model_path, records, tmp_path_factory.mktemp("whole") / "run", FAST)


def test_learn_from_memory_and_traces_lowers_the_loss_and_writes_an_adapter(tmp_path, model_path):
    store_path = tmp_path / "memory"
    store = TraceStore(str(store_path), make_embedder("minilm")).open()
    for item in _items(2):
        store.add({
            "question": f"What does f({item['input']}) return?", "code": item["code"],
            "language": "python", "rationale": "Adding the two numbers.", "answer": item["output"],
        })  # fmt: skip
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(i) + "\n" for i in _items(4)[2:]))
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "ponder", "learn", "--from", "memory", "--memory", str(store_path),
         "--from", "traces", str(data), "--inputs-per-item", "1", "--model", str(model_path),
         "--epochs", "3", "--learning-rate", "1e-3", "--rank", "4", "--checkpoint-every", "4",
         "--max-tokens", "400", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "from memory: 2 examples" in done.stderr and "from traces: 2 examples" in done.stderr
    result = done.stdout.strip().splitlines()[-1]
    assert result.startswith("RESULT examples=4 too_long=0 steps=12 "), result
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 13))
    first, last = (np.mean([r["loss"] for r in log[i : i + 4]]) for i in (0, 8))
    assert last < first * 0.8, (first, last)  # the third epoch's loss is well below the first's
    assert (out / "loss.png").stat().st_size > 1000
    assert (out / "adapter.gguf").stat().st_size > 10_000


def test_a_stopped_run_resumes_from_its_checkpoint_and_ends_as_an_unstopped_one(
    tmp_path, model_path, records, whole_run
):
    def stop_at_step_5(line: str) -> None:
        if line.startswith("step 5/"):
            raise KeyboardInterrupt  # as a user's Ctrl-C, after step 5 was logged

    with pytest.raises(KeyboardInterrupt):
        train.train(model_path, records, tmp_path / "run", FAST, progress=stop_at_step_5)
    assert json.loads((tmp_path / "run/checkpoint/state.json").read_text())["step"] == 4
    with pytest.raises(Exception, match="holds a run already"):
        train.train(model_path, records, tmp_path / "run", FAST)
    resumed = train.train(model_path, records, tmp_path / "run", FAST, resume=True)
    assert resumed.steps == 6
    steps = [json.loads(line)["step"] for line in (tmp_path / "run/log.jsonl").read_text().splitlines()]  # fmt: skip
    assert steps == [1, 2, 3, 4, 5, 6]  # step 5, redone, logged once
    assert resumed.loss_last == pytest.approx(whole_run.loss_last, rel=1e-3)


def test_the_exported_adapter_changes_llama_cpp_as_it_changed_transformers(
    tmp_path, model_path, records, whole_run
):
    """The adapter's effect on the logits in llama.cpp matches its effect in transformers (a
    wrong tensor name, transposition or q/k permutation would not)."""
    import llama_cpp
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    from ponder.agent.learning import export

    state = load_file(whole_run.folder / "checkpoint/adapter.safetensors")
    adapter = tmp_path / "adapter.gguf"
    export.write_adapter(state, whole_run.shape, FAST.alpha, adapter, "sha", TEST_MODEL)
    assert export.read_base(adapter)[export.BASE_NAME] == TEST_MODEL

    tokenizer, base = train.load_model(model_path)
    ids, labels = train.tokenized(tokenizer, records[0]["messages"])
    answer = [i for i, label in enumerate(labels) if label != train.IGNORED]
    with torch.no_grad():
        before = base(input_ids=torch.tensor([ids])).logits[0].numpy()
        config = LoraConfig(r=FAST.rank, lora_alpha=FAST.alpha, target_modules=list(train.TARGET_MODULES))  # fmt: skip
        adapted = get_peft_model(base, config)
        set_peft_model_state_dict(adapted, state)
        after = adapted(input_ids=torch.tensor([ids])).logits[0].numpy()

    def llama_logits(lora: str | None) -> np.ndarray:
        llm = llama_cpp.Llama(str(model_path), n_ctx=1024, logits_all=True, verbose=False, lora_path=lora)  # fmt: skip
        llm.eval(ids)
        scores = np.array(llm.scores[: len(ids)])
        llm.close()
        return scores

    plain, with_adapter = llama_logits(None), llama_logits(str(adapter))
    effect_hf, effect_cpp = (after - before)[answer].ravel(), (with_adapter - plain)[answer].ravel()
    assert np.abs(effect_cpp).mean() > 0.05  # the adapter changes the distribution
    assert np.corrcoef(effect_hf, effect_cpp)[0, 1] > 0.9
