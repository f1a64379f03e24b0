"""`ponder learn` for real on the test model: accepted traces from a real memory store and the
tracer's exact traces, real training steps (transformers + peft), a checkpoint resumed after a
stop, and the exported adapter loaded by llama.cpp, where it changes the model's next-token
distribution the way the trained adapter does in transformers."""

import copy
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


@pytest.fixture(scope="module", autouse=True)
def model_loaded_once(model_path):
    """Every in-process run trains a fresh copy of one loaded model: transformers takes most of a
    test's time to convert the GGUF file, and peft changes the model it is given in place."""
    loaded = train.load_model(model_path)

    def load_a_copy(path):
        assert Path(path).name == Path(model_path).name, f"a test trained another model: {path}"
        return copy.deepcopy(loaded)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train, "load_model", load_a_copy)
        yield


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
    for item in _items(1):
        store.add({
            "question": f"What does f({item['input']}) return?", "code": item["code"],
            "language": "python", "rationale": "Adding the two numbers.", "answer": item["output"],
        })  # fmt: skip
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps(_items(2)[1]) + "\n")
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "ponder", "learn", "--from", "memory", "--memory", str(store_path),
         "--from", "traces", str(data), "--inputs-per-item", "1", "--model", str(model_path),
         "--epochs", "3", "--learning-rate", "1e-3", "--rank", "4", "--checkpoint-every", "2",
         "--max-tokens", "400", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "from memory: 1 example" in done.stderr and "from traces: 1 example" in done.stderr
    assert "1 examples" not in done.stderr
    result = done.stdout.strip().splitlines()[-1]
    assert result.startswith("RESULT examples=2 too_long=0 steps=6 "), result
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 7))
    first, last = (np.mean([r["loss"] for r in log[i : i + 2]]) for i in (0, 4))
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


@pytest.fixture(scope="module")
def adapters_made(tmp_path_factory, model_path, whole_run) -> dict[str, Path]:
    """The run's adapter for this model file, the same for another file of its shape, a
    truncated one and a file that is not GGUF."""
    from safetensors.torch import load_file

    from ponder.agent.learning import export

    folder = tmp_path_factory.mktemp("adapters")
    state = load_file(whole_run.folder / "checkpoint/adapter.safetensors")
    made = {name: folder / f"{name}.gguf" for name in ("fits", "other", "truncated", "text")}
    real = models.MODELS[TEST_MODEL].sha256
    export.write_adapter(state, whole_run.shape, FAST.alpha, made["fits"], real, TEST_MODEL)
    export.write_adapter(state, whole_run.shape, FAST.alpha, made["other"], "ab" * 32, "another")
    made["truncated"].write_bytes(made["fits"].read_bytes()[:200_000])
    made["text"].write_text("not a model\n")
    return made


@pytest.mark.parametrize(
    "name, refusal",
    [
        ("other", "was trained for another model file (another, sha256 abababababab…), not smollm2-135m"),
        ("truncated", "does not fit the model smollm2-135m: llama.cpp could not load it"),
        ("text", "is not a GGUF file"),
        ("missing", "does not exist"),
    ],
)  # fmt: skip
def test_an_adapter_that_is_not_for_this_model_is_refused_and_the_base_model_runs(
    adapters_made, model_path, name, refusal
):
    from ponder.agent.engine import LlamaEngine
    from ponder.agent.pipeline import model_label

    path = adapters_made.get(name, adapters_made["fits"].with_name("missing.gguf"))
    real = models.MODELS[TEST_MODEL].sha256
    engine = LlamaEngine(str(model_path), TEST_MODEL, context_size=1024, adapter=str(path), model_sha256=lambda: real)  # fmt: skip
    engine.load()
    assert engine.adapter is None and refusal in engine.adapter_problem
    assert model_label(engine) == TEST_MODEL
    hello = [{"role": "user", "content": "Say hello."}]
    assert engine.sample(hello, max_tokens=4)[0].completion_tokens > 0  # the base model runs
    engine.close()


def test_the_adapter_that_fits_is_named_in_results_and_changes_the_answer(adapters_made, model_path):  # fmt: skip
    from ponder.agent.engine import LlamaEngine
    from ponder.agent.pipeline import model_label

    real = models.MODELS[TEST_MODEL].sha256
    prompt = [{"role": "user", "content": f"What does f([3, 4]) return?\n\n{training_code(3)}"}]
    texts = []
    for adapter in ("", str(adapters_made["fits"])):
        engine = LlamaEngine(str(model_path), TEST_MODEL, context_size=1024, adapter=adapter, model_sha256=lambda: real)  # fmt: skip
        engine.load()
        texts.append(engine.sample(prompt, max_tokens=40)[0].text)
        label = model_label(engine)
        engine.close()
    assert engine.adapter_problem is None and engine.adapter.base == TEST_MODEL
    assert label == f"{TEST_MODEL} + fits"
    assert texts[0] != texts[1]  # the trained adapter moves greedy decoding


def test_the_server_warns_of_a_refused_adapter_and_answers_with_the_base_model(adapters_made, tmp_path):  # fmt: skip
    from tests.wire import WireServer

    uri = (tmp_path / "a.py").as_uri()
    server = WireServer(tmp_path / "home", model=TEST_MODEL)
    try:
        server.initialize({"adapter": str(adapters_made["other"])})
        server.open(uri, training_code(1))
        params = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 4},
                  "question": "What does f([1, 2]) return?", "options": {"strategy": "greedy", "maxTokens": 24}}  # fmt: skip
        reply = server.request("ponder/reason", params, timeout=120)
        assert reply["result"]["model"] == TEST_MODEL, reply
        told = [n["params"]["message"] for n in server.notifications if n["method"] == "window/showMessage"]  # fmt: skip
        assert any("was trained for another model file" in m and f"running {TEST_MODEL} without it" in m for m in told), told  # fmt: skip
        status = server.request("ponder/status", {}, timeout=60)["result"]["adapter"]
        assert status["loaded"] is False and "another model file" in status["problem"]
        server.notify("workspace/didChangeConfiguration", {"settings": {"adapter": str(adapters_made["fits"])}})  # fmt: skip
        reply = server.request("ponder/reason", params, timeout=120)
        assert reply["result"]["model"] == f"{TEST_MODEL} + fits", reply
        status = server.request("ponder/status", {}, timeout=60)["result"]["adapter"]
        assert status["loaded"] is True and status["base"] == TEST_MODEL
        assert not server.tracebacks()
    finally:
        server.close()


def test_llama_server_runs_the_adapter_as_ponder_does(adapters_made, model_path):
    """The team backend: llama-server --lora gives the in-process adapted engine's tokens and
    margins, and margins that are not the base model's."""
    from ponder.agent.engine import LlamaEngine
    from ponder.agent.remote_engine import OpenAICompatibleEngine
    from tests.llama_server import LlamaServer

    prompt = [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": "Write three short sentences about rivers."},
    ]
    real = models.MODELS[TEST_MODEL].sha256
    adapter = str(adapters_made["fits"])
    local = LlamaEngine(str(model_path), TEST_MODEL, context_size=2048, threads=2, adapter=adapter, model_sha256=lambda: real)  # fmt: skip
    try:
        [mine] = local.sample(prompt, max_tokens=24)
    finally:
        local.close()
    served = {}
    for lora in (None, adapter):
        with LlamaServer(str(model_path), parallel=1, lora=lora) as server:
            remote = OpenAICompatibleEngine(server.url, max_concurrent=1)
            remote.load()
            [served[lora]] = remote.sample(prompt, max_tokens=24)
    theirs, base = served[adapter], served[None]
    assert theirs.tokens == mine.tokens
    assert max(abs(a - b) for a, b in zip(theirs.margins, mine.margins, strict=True)) < 0.02
    assert max(abs(a - b) for a, b in zip(base.margins, mine.margins, strict=False)) > 0.05
