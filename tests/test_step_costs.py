"""Whether extra rows in a batch are cheap here, from measured decode steps."""

import json

from ponder.agent.step_costs import KEPT_STEPS, MIN_STEPS, StepCosts, machine_key, saved_verdicts


def costs(**ms_by_rows: float) -> StepCosts:
    measured = StepCosts()
    for name, ms in ms_by_rows.items():
        for _ in range(MIN_STEPS):
            measured.add(int(name.removeprefix("r")), ms / 1000)
    return measured


def test_unmeasured_keeps_the_default():
    assert StepCosts().extra_row_cost() is None
    assert StepCosts().cheap(default=True) and not StepCosts().cheap(default=False)
    only_one_row = costs(r1=50)
    assert only_one_row.extra_row_cost() is None
    too_few = costs(r1=50)
    for _ in range(MIN_STEPS - 1):
        too_few.add(6, 0.06)
    assert too_few.extra_row_cost() is None and not too_few.cheap(default=False)


def test_a_cpu_where_rows_cost_what_a_row_does_is_not_cheap():
    cpu = costs(r1=50, r6=300)
    assert abs(cpu.extra_row_cost() - 1.0) < 1e-9
    assert not cpu.cheap(default=True)


def test_a_machine_that_batches_well_is_cheap_whatever_the_default():
    gpu_like = costs(r1=50, r6=60)
    assert abs(gpu_like.extra_row_cost() - 0.04) < 1e-9
    assert gpu_like.cheap(default=False)


def test_the_widest_batch_with_enough_steps_decides():
    measured = costs(r1=50, r3=60, r6=300)
    measured.add(8, 0.05)  # one step of 8 rows: too few to count
    assert abs(measured.extra_row_cost() - 1.0) < 1e-9


def test_the_threshold_sits_where_greedy_first_delays_the_vote_by_a_quarter():
    # m = 1/3: greedy-first's vote at (2 + 4m) / (1 + 5m) = 1.25 times one batch's.
    assert not costs(r1=30, r6=81).cheap(default=True)  # m just above 1/3
    assert costs(r1=30, r6=79).cheap(default=False)  # just below


def save_as(measured: StepCosts, file, key: str) -> None:
    measured.file = file
    measured.restore(key)  # the file holds nothing for the key yet: the steps stay
    measured.save()


def test_a_saved_table_gives_the_next_engine_its_answer_from_the_start(tmp_path):
    file = tmp_path / "step-costs.json"
    save_as(costs(r1=50, r6=300), file, "model|cpu")
    again = StepCosts(file)
    assert again.extra_row_cost() is None  # nothing read before restore
    again.restore("model|cpu")
    assert abs(again.extra_row_cost() - 1.0) < 1e-9 and not again.cheap(default=True)
    other = StepCosts(file)
    other.restore("model|gpu")  # another model, machine or build starts unmeasured
    assert other.extra_row_cost() is None and other.cheap(default=True)


def test_saving_keeps_other_keys_and_caps_old_steps(tmp_path):
    file = tmp_path / "step-costs.json"
    save_as(costs(r1=50, r6=60), file, "model|gpu")
    cpu = StepCosts(file)
    cpu.restore("model|cpu")
    for _ in range(KEPT_STEPS * 2):
        cpu.add(1, 0.05)
    cpu.save()
    tables = json.loads(file.read_text())
    assert set(tables) == {"model|gpu", "model|cpu"}
    steps, seconds = tables["model|cpu"]["1"]
    assert steps == KEPT_STEPS and abs(seconds / steps - 0.05) < 1e-9  # the mean kept


def test_a_corrupt_or_foreign_file_is_a_fresh_start_and_is_rewritten(tmp_path):
    file = tmp_path / "step-costs.json"
    for junk in ("{not json", "[1, 2]", '{"k": {"1": "x", "6": [0, 1], "z": [40, 2.0]}}'):
        file.write_text(junk)
        measured = StepCosts(file)
        measured.restore("k")
        assert measured.steps == {}
    measured.add(1, 0.05)
    measured.save()
    assert json.loads(file.read_text())["k"] == {"1": [1, 0.05]}


def test_an_unwritable_place_is_ignored(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    measured = StepCosts(blocker / "step-costs.json")  # its parent is a file: cannot be made
    measured.restore("k")
    measured.add(1, 0.05)
    measured.save()  # no exception: the table is only a head start
    a_directory = tmp_path / "taken"
    (a_directory / "inside").mkdir(parents=True)
    measured.file = a_directory  # written, then cannot replace a directory
    measured.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "taken"]  # no temporary left


def test_doctor_says_what_each_saved_table_decides(tmp_path):
    file = tmp_path / "step-costs.json"
    save_as(costs(r1=50, r6=300), file, "cpu")
    save_as(costs(r1=50, r6=60), file, "gpu")
    few = StepCosts(file)
    few.restore("new")
    few.add(1, 0.05)
    few.save()
    verdicts = saved_verdicts(file)
    assert "1.00 of a one-path step" in verdicts["cpu"] and "greedy path first" in verdicts["cpu"]
    assert "0.04" in verdicts["gpu"] and "one batch" in verdicts["gpu"]
    assert verdicts["new"].startswith("not measured yet")
    assert saved_verdicts(tmp_path / "missing.json") == {}


def test_doctor_shows_only_the_tables_of_its_model_file(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    other_build = tmp_path / "other" / "m.gguf"  # the same name, another size
    other_build.parent.mkdir()
    other_build.write_bytes(b"GGUF" + bytes(10))
    file = tmp_path / "step-costs.json"
    for path, r6 in ((model, 300), (other_build, 60)):
        save_as(costs(r1=50, r6=r6), file, machine_key(str(path), 2, False, "b1"))
    [(machine, verdict)] = saved_verdicts(file, str(model)).items()
    assert "threads=2|cpu|b1" in machine and "m.gguf" not in machine
    assert "greedy path first" in verdict  # this file's table, not the other's one batch
