"""Offline aggregation from saved paths: rules, cost model, calibration, refusing bad files."""

import json
from pathlib import Path

import pytest

from ponder.agent import calibration
from ponder.agent.errors import PonderError
from ponder.agent.evaluation import aggregate
from ponder.agent.evaluation import harness as evaluate


def item(answers, correct, tokens=None, margins=None):
    tokens = tokens or [100] * len(answers)
    margins = margins or [0.5] * len(answers)
    paths = [
        {"kind": "greedy" if i == 0 else "sample", "answer": a, "correct": c, "margin": m,
         "tokens": t, "finish": "stop", "concluded": False, "text": f"ANSWER: {a}"}
        for i, (a, c, t, m) in enumerate(zip(answers, correct, tokens, margins, strict=True))
    ]  # fmt: skip
    # a step with r live paths costs 0.1 + 0.02·r seconds
    steps = {str(r): [10, 10 * (0.1 + 0.02 * r)] for r in (1, 3, 6)}
    return {"id": "x", "expected": "1", "prompt_s": 1.0, "steps": steps, "paths": paths}


HEADER = {"format": "ponder-paths", "version": 1, "model": "m", "temperature": 0.5, "samples": 5}


def write_paths(file, lines):
    """A saved-paths file: the header, then one item per line."""
    file.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return file


def report(items):
    return aggregate.Report(HEADER, items)


def load_script(name):
    """A script in scripts/ as a module (scripts/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).parents[1] / "scripts" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_parse_and_bad_rules_are_refused():
    rule = aggregate.parse_rule("weighted+greedy+adaptive@5")
    assert (rule.vote, rule.k, rule.greedy, rule.adaptive) == ("weighted", 5, True, True)
    with pytest.raises(PonderError, match="unknown rule"):
        aggregate.parse_rule("vote@5")


def test_majority_outvotes_a_wrong_greedy_path():
    it = item(["2", "1", "1", "1", "2", "3"], [False, True, True, True, False, False])
    r = report([it])
    assert not r.apply(aggregate.parse_rule("greedy"), it).correct
    out = r.apply(aggregate.parse_rule("majority+greedy@5"), it)
    assert out.correct and out.answer == "1" and out.raw == pytest.approx(3 / 5)
    assert r.apply(aggregate.parse_rule("majority@3"), it).agree == 3


def test_first_m_votes_with_the_shortest_paths_and_stops_at_the_mth():
    # The two longest paths (wrong) are still running when the 4th path finishes.
    it = item(["1", "2", "1", "1", "2", "1"], [True, False, True, True, False, True],
              tokens=[100, 500, 120, 90, 400, 110])  # fmt: skip
    r = report([it])
    full = r.apply(aggregate.parse_rule("majority+greedy@6"), it)
    first = r.apply(aggregate.parse_rule("majority+greedy+first4@6"), it)
    assert first.correct and first.paths == 4 and first.agree == 4 and first.raw == 1.0
    assert first.tokens == 100 + 120 + 90 + 110 + 2 * 120 and first.seconds < full.seconds
    with pytest.raises(PonderError, match="1 <= M <= K"):
        aggregate.parse_rule("weighted+first7@6")


def test_adaptive_stops_at_three_when_they_agree_and_costs_less():
    agree = item(["1"] * 6, [True] * 6)
    r = report([agree])
    full = r.apply(aggregate.parse_rule("majority+greedy@5"), agree)
    adaptive = r.apply(aggregate.parse_rule("majority+greedy+adaptive@5"), agree)
    assert adaptive.paths == 3 and full.paths == 5 and adaptive.seconds < full.seconds
    split = item(["1", "2", "3", "1", "1", "1"], [True, False, False, True, True, True])
    assert (
        report([split]).apply(aggregate.parse_rule("majority+greedy+adaptive@5"), split).paths == 5
    )


def test_step_cost_is_measured_per_batch_size_from_the_run():
    costs = aggregate.measure_step_costs([item(["1"], [True])])
    assert costs == pytest.approx({1: 0.12, 3: 0.16, 6: 0.22})
    # not a line: a step of 4 rows may cost less than one of 3 (measured so on a CPU)
    costs[4] = 0.15
    assert aggregate.step_cost(costs, 4) == 0.15
    assert aggregate.step_cost(costs, 2) == pytest.approx(0.14)  # between 1 and 3
    assert aggregate.step_cost(costs, 8) == pytest.approx(0.22)  # past the largest: the largest
    r = report([item(["1", "1"], [True, True], tokens=[50, 80])])
    # one batch of paths of 50 and 80 tokens: 50 steps with 2 live, 30 with 1, plus the prompt
    out = r.apply(aggregate.parse_rule("majority+greedy@2"), r.items[0])
    assert out.seconds == pytest.approx(1.0 + 50 * 0.14 + 30 * 0.12)


def test_each_run_is_timed_with_its_own_step_costs():
    """Files sampled on different machines: an item's time comes from its own run's steps, not
    from costs pooled over machines."""
    fast, slow = item(["1"], [True]), item(["1"], [True])
    fast["run"], slow["run"] = "fast.jsonl", "slow.jsonl"
    slow["steps"] = {"1": [10, 10 * 0.5]}  # a step costs 0.5 s on the slow machine
    r = report([fast, slow])
    greedy = aggregate.parse_rule("greedy")
    assert r.apply(greedy, fast).seconds == pytest.approx(1.0 + 100 * 0.12)
    assert r.apply(greedy, slow).seconds == pytest.approx(1.0 + 100 * 0.5)


def test_a_slow_step_bucket_is_left_out_of_the_cost():
    items = [item(["1"], [True]) for _ in range(3)]
    items[0]["steps"]["1"] = [10, 10 * 0.12 * 5]  # the machine was busy for this item
    assert aggregate.measure_step_costs(items)[1] == pytest.approx(0.12)


def test_summary_has_intervals_ece_and_the_result_line():
    items = [item(["1"] * 6, [True] * 6) for _ in range(6)] + [
        item(["2", "3", "4", "5", "6", "7"], [False] * 6) for _ in range(6)
    ]
    s = report(items).summarise(aggregate.parse_rule("majority+greedy@5"))
    assert s["accuracy"] == 0.5 and s["accuracy_ci"][0] < 0.5 < s["accuracy_ci"][1]
    assert s["raw"]["high_n"] == 6 and s["raw"]["high_accuracy"] == 1.0
    assert s["raw"]["ece"] == pytest.approx(0.1)  # wrong answers carry share 0.2
    line = aggregate.result_line("majority+greedy@5", s)
    assert line.startswith("RESULT n=12 strategy=majority+greedy@5 acc=0.500 ")


def test_calibration_fit_is_monotone_shrunk_and_maps_raw_values():
    raw = [0.2] * 10 + [0.6] * 10 + [1.0] * 10 + [0.4] * 2
    correct = (
        [False] * 8 + [True] * 2 + [True] * 5 + [False] * 5 + [True] * 9 + [False] + [True] * 2
    )
    table = calibration.fit(raw, correct)
    overall = 18 / 32
    # 0.4 (2 of 2 right) is above 0.6 (5 of 10): pooled, as the fit must not decrease
    assert table == [
        (0.2, round((2 + 2 * overall) / 12, 3)),
        (0.4, round((7 + 2 * overall) / 14, 3)),
        (1.0, round((9 + 2 * overall) / 12, 3)),
    ]
    assert [acc for _, acc in table] == sorted(acc for _, acc in table)
    assert calibration.mapped(table, 0.6) == table[1][1]
    assert calibration.mapped(table, 1.0) == table[2][1]
    assert calibration.mapped(table, 0.0) == table[0][1]


def test_calibrate_gives_a_number_only_inside_a_tables_scope():
    calibrate, Scope = calibration.calibrate, calibration.Scope
    value = Scope("qwen2.5-coder-1.5b", "self_consistency", "value", "value")
    unanimous = calibrate(value, 1.0)
    assert unanimous.verdict == "confident" and unanimous.confidence == 0.884
    assert calibrate(value, 0.2).verdict == "uncertain" and calibrate(value, 0.2).confidence < 0.8
    greedy = calibrate(Scope("qwen2.5-coder-1.5b", "greedy", "value", "value"), 1.0)
    assert greedy.confidence == 0.471 and greedy.verdict == "uncertain"
    refusals = {
        Scope("qwen2.5-coder-1.5b", "greedy", "value", "text"): "not calibrated: the answer is not a Python value",
        Scope("qwen2.5-coder-1.5b", "self_consistency", "yes/no", "value"): "not calibrated for yes/no questions",
        Scope("qwen2.5-coder-1.5b", "self_consistency", "other", "value"): "not calibrated for this kind of question",
        Scope("qwen2.5-coder-0.5b", "self_consistency", "value", "value"): "not calibrated for the model qwen2.5-coder-0.5b",
        Scope("qwen2.5-coder-1.5b", "self_consistency", "value", "value", adapter="ab" * 32): "not calibrated for the model qwen2.5-coder-1.5b with this adapter",
        Scope("qwen2.5-coder-1.5b", "cot_decoding", "value", "value"): "not calibrated for cot_decoding",
        Scope("qwen2.5-coder-1.5b", "greedy", "value", "none"): "no path reached a final answer",
    }  # fmt: skip
    for scope, why in refusals.items():
        assert calibrate(scope, 0.99) == calibration.Calibrated(None, "uncertain", why), scope
    free = calibrate(Scope("qwen2.5-coder-1.5b", "greedy", "other", "free text"), 0.99)
    assert free == calibration.Calibrated(None, "unchecked", "free text is not checked")


def test_saved_paths_files_from_elsewhere_are_refused(tmp_path):
    other = write_paths(tmp_path / "other.jsonl", [{"format": "ponder-paths", "version": 99}])
    with pytest.raises(PonderError, match="version 99"):
        evaluate.read_paths(other)
    good = write_paths(tmp_path / "good.jsonl", [HEADER])
    with pytest.raises(PonderError, match="not qwen"):
        evaluate.read_paths(good, model="qwen")
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n")
    with pytest.raises(PonderError, match="not a saved-paths file"):
        evaluate.read_paths(junk)


def test_a_run_resumes_and_refuses_other_settings(tmp_path):
    file = tmp_path / "paths.jsonl"
    header = {**HEADER, "max_tokens": 512}
    done, out = evaluate.open_paths_file(file, header)
    with out:
        out.write(json.dumps({**item(["1"], [True]), "id": "a"}) + "\n")
    done, out = evaluate.open_paths_file(file, header)
    out.close()
    assert done == {"a"}
    with pytest.raises(PonderError, match="temperature"):
        evaluate.open_paths_file(file, {**header, "temperature": 0.7})


def test_rescore_extracts_saved_texts_again():
    it = item(["x"], [False])
    it["expected"] = "[]"
    it["paths"][0]["text"] = "so the output is `ANSWER: []`."
    assert evaluate.rescore([it]) == 1
    assert it["paths"][0]["answer"] == "[]" and it["paths"][0]["correct"] is True
    assert evaluate.rescore([it]) == 0


def test_plot_writes_a_reliability_diagram(tmp_path):
    items = [item(["1"] * 6, [True] * 6) for _ in range(4)] + [
        item(["2", "3", "4", "5", "6", "7"], [False] * 6) for _ in range(4)
    ]
    out = tmp_path / "plot.png"
    rules = [aggregate.parse_rule("greedy"), aggregate.parse_rule("majority+greedy@6")]
    aggregate.plot(report(items), rules, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_score_parses_the_prediction_and_never_runs_it(tmp_path):
    marker = tmp_path / "ran"
    assert evaluate.score("[1, 2]", " [1, 2] ")
    assert evaluate.score("{'a': (1, None)}", "{'a': (1, None)}")
    assert not evaluate.score("3", "4")
    assert not evaluate.score("'ab'", "'a' + 'b'")  # an expression is not a literal
    hostile = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    assert not evaluate.score("None", hostile)
    assert not marker.exists()


def test_held_out_items_are_calibrated_with_the_shipped_table():
    header = {**HEADER, "model": "qwen2.5-coder-1.5b"}
    items = [item(["1"] * 6, [True] * 6), item(["2", "3", "4", "5", "6", "7"], [False] * 6)]
    rule = aggregate.parse_rule("weighted+greedy@6")
    held_out = aggregate.Report(header, items, held_out=True).summarise(rule)
    table = calibration.tables_for("qwen2.5-coder-1.5b")
    unanimous = calibration.mapped(table["self_consistency"], 1.0)
    assert unanimous >= calibration.CONFIDENT_AT  # the shipped table calls 6 of 6 confident
    assert held_out["calibrated"]["high_n"] == 1 and held_out["calibrated"]["high_accuracy"] == 1.0
    assert held_out["calibrated"]["mean"] == pytest.approx(
        (unanimous + calibration.mapped(table["self_consistency"], 1 / 6)) / 2
    )
    # without --held-out the same two items are cross-fitted on each other instead
    assert aggregate.Report(header, items).summarise(rule)["calibrated"] != held_out["calibrated"]


def test_the_command_scores_its_default_rules_and_refuses_held_out_without_a_table(
    tmp_path, capsys
):
    from ponder.server.cli import main

    file = tmp_path / "paths.jsonl"
    items = [
        item(["1"] * 6, [True] * 6),
        item(["2", "1", "1", "1", "1", "1"], [False] + [True] * 5),
    ]
    write_paths(file, [HEADER, *items])
    main(["eval", "aggregate", str(file)])
    out = capsys.readouterr().out
    for rule in ("greedy", "weighted+greedy@6", "weighted+greedy+first5@6"):
        assert f"strategy={rule} acc=" in out
    assert "strategy=weighted+greedy@6 acc=1.000" in out  # five votes outweigh the greedy path
    with pytest.raises(SystemExit):
        main(["eval", "aggregate", str(file), "--held-out"])
    assert "no calibration table is shipped for m" in capsys.readouterr().err


def test_several_files_sampled_alike_are_scored_as_one_and_others_refused(tmp_path, capsys):
    from ponder.server.cli import main

    def write(name, header, ids):
        items = [{**item(["1"] * 6, [True] * 6), "id": i} for i in ids]
        return str(write_paths(tmp_path / name, [header, *items]))

    first = write("a.jsonl", HEADER, ["s1", "s2"])
    more = write("b.jsonl", {**HEADER, "offset": 100}, ["s3"])  # more items, sampled alike
    main(["eval", "aggregate", first, more, "--rules", "greedy"])
    assert "RESULT n=3 strategy=greedy" in capsys.readouterr().out
    _, items = evaluate.read_many_paths([Path(first), Path(more)])
    assert [it["run"] for it in items] == [first, first, more]  # each timed by its own run
    hotter = write("c.jsonl", {**HEADER, "temperature": 0.7}, ["s4"])
    with pytest.raises(PonderError, match=r"other settings than .*a.jsonl \(temperature\)"):
        evaluate.read_many_paths([Path(first), Path(hotter)])
    again = write("d.jsonl", HEADER, ["s2"])
    with pytest.raises(PonderError, match="repeats items already read"):
        evaluate.read_many_paths([Path(first), Path(again)])


def test_cross_fitting_repeats_over_seeded_halvings():
    outs = [aggregate.Outcome("x", i % 3 == 0, i / 10, 1, 1, 10, 1.0) for i in range(10)]
    splits = aggregate.cross_fitted(outs, splits=5)
    assert len(splits) == 5 and all(len(s) == 10 for s in splits)
    assert splits == aggregate.cross_fitted(outs, splits=5)  # the same halvings every run
    assert len({tuple(s) for s in splits}) > 1  # but not one halving five times


def test_repeated_summary_pools_the_confident_answers_and_averages_ece():
    per_split = [[0.9, 0.9, 0.1], [0.9, 0.1, 0.1]]
    correct = [True, False, False]
    s = aggregate.repeated_summary(per_split, correct)
    assert s["high_n"] == 1.5
    assert s["high_accuracy"] == pytest.approx(2 / 3)  # 1 of 2, then 1 of 1
    each = [aggregate.ece(c, correct) for c in per_split]
    assert s["ece"] == pytest.approx(sum(each) / 2)


def test_bin_members_puts_each_confidence_in_its_tenth_and_one_in_the_last():
    members = aggregate.bin_members([0.0, 0.1, 0.35, 0.95, 1.0, 0.0999])
    assert members[0] == [0, 5]
    assert members[1] == [1]  # a bin holds its lower edge
    assert members[3] == [2]
    assert members[9] == [3, 4]  # 1.0 has no bin of its own
    assert sum(len(m) for m in members) == 6


def test_compare_paths_pairs_two_runs_on_the_items_both_hold(tmp_path, monkeypatch, capsys):
    compare = load_script("compare_paths")
    right = item(["1"] * 6, [True] * 6)
    wrong = item(["0"] * 6, [False] * 6)

    def write(name, temperature, items):
        lines = [{**HEADER, "temperature": temperature}, *items]
        return aggregate.saved_report([write_paths(tmp_path / name, lines)])

    a = write("a.jsonl", 0.5, [{**wrong, "id": "p"}, {**right, "id": "q"}, {**right, "id": "r"}])
    b = write("b.jsonl", 0.7, [{**right, "id": "p"}, {**right, "id": "q"}, {**wrong, "id": "s"}])
    outs_a, outs_b = compare.shared_outcomes(a, b, aggregate.parse_rule("weighted+greedy@6"))
    assert len(outs_a) == len(outs_b) == 2  # r and s are in one run only
    assert [o.correct for o in outs_a] == [False, True]
    assert [o.correct for o in outs_b] == [True, True]
    assert "unanimous 1/2 right" in compare.describe(outs_a, 6, 1.0)
    # A side held in several files (a first draw sampled block by block), joined with commas.
    write("a1.jsonl", 0.5, [{**wrong, "id": "p"}])
    write("a2.jsonl", 0.5, [{**right, "id": "q"}, {**right, "id": "r"}])
    files = f"{tmp_path / 'a1.jsonl'},{tmp_path / 'a2.jsonl'}"
    monkeypatch.setattr("sys.argv", ["compare_paths", files, str(tmp_path / "b.jsonl"),
                                     "--rules", "weighted+greedy@6"])  # fmt: skip
    compare.main()
    assert "weighted+greedy@6 n=2: B +1/-0 against A" in capsys.readouterr().out


def one_item_file(tmp_path):
    """A CRUXEval-style data file of one item, for the eval command's flag tests."""
    data = tmp_path / "items.jsonl"
    row = {"id": "s1", "code": "def f(x):\n    return x", "input": "1", "output": "1"}
    data.write_text(json.dumps(row) + "\n")
    return data


def test_an_output_file_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys):
    from ponder.server.cli import main

    data = one_item_file(tmp_path)
    for flag, target in (("--json", tmp_path / "no" / "r.json"), ("--save-paths", tmp_path)):
        with pytest.raises(SystemExit):
            main(
                ["eval", "cruxeval", "--data", str(data), "--model", "scripted", flag, str(target)]
            )
        err = capsys.readouterr().err
        assert err.startswith(f"ponder: {flag} {target}"), err
        assert "items from" not in err  # refused before any item was asked


def test_limit_and_offset_outside_the_data_are_refused(tmp_path, capsys):
    from ponder.server.cli import main

    data = one_item_file(tmp_path)
    for flags, said in (
        (["--limit", "-1"], "argument --limit: must be at least 1, got -1"),
        (["--offset", "-3"], "argument --offset: must be at least 0, got -3"),
        (["--offset", "1"], f"no items in {data} from --offset 1"),
    ):
        with pytest.raises(SystemExit):
            main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", *flags])
        assert said in capsys.readouterr().err


def test_a_data_file_that_is_not_items_is_refused_with_its_line(tmp_path, capsys):
    from ponder.server.cli import main

    for text, said in (
        ('{"code": "x", "input": "1", "output": "1"}\n{bad\n', "items.jsonl:2: not JSON"),
        ('{"id": "s1", "code": "x"}\n', "items.jsonl:1: not an item (a JSON object with code, input, "
         "output; missing input, output)"),
        ("[1]\n", "items.jsonl:1: not an item"),
    ):  # fmt: skip
        (tmp_path / "items.jsonl").write_text(text)
        with pytest.raises(SystemExit):
            main(
                ["eval", "cruxeval", "--data", str(tmp_path / "items.jsonl"), "--model", "scripted"]
            )
        assert said in capsys.readouterr().err


def test_save_paths_records_the_seed_given_and_refuses_flags_outside_the_settings_limits(
    tmp_path, capsys
):
    from ponder.server.cli import main

    data = one_item_file(tmp_path)
    file = tmp_path / "paths.jsonl"
    main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--limit", "1",
          "--save-paths", str(file), "--seed", "7"])  # fmt: skip
    header = json.loads(file.read_text().splitlines()[0])
    assert header["seed"] == 7
    capsys.readouterr()
    refused = {
        ("--seed", "-1"): "--seed must be between 0 and 2147483647, got -1",
        ("--seed", str(2**31)): "--seed must be between 0 and 2147483647, got 2147483648",
        ("--temperature", "5"): "--temperature must be between 0.0 and 2.0, got 5.0",
        ("--max-tokens", "0"): "--max-tokens must be between 1 and 8192, got 0",
        ("--samples", "32"): "--samples 32 and the greedy path make 33 paths",
    }
    for flag, message in refused.items():
        other = tmp_path / "other.jsonl"
        with pytest.raises(SystemExit):
            main(["eval", "cruxeval", "--data", str(data), "--model", "scripted",
                  "--save-paths", str(other), *flag])  # fmt: skip
        assert message in capsys.readouterr().err
        assert not other.exists()  # refused before anything was sampled


def test_eval_refuses_a_sample_count_outside_the_settings_limits(tmp_path, capsys):
    from ponder.server.cli import main

    data = one_item_file(tmp_path)
    with pytest.raises(SystemExit):
        main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--samples", "0"])
    assert "--samples must be between 1 and 32, got 0" in capsys.readouterr().err


def test_every_nth_item_is_sampled_and_recorded_and_zero_is_refused(tmp_path, capsys):
    from ponder.server.cli import main

    data = tmp_path / "items.jsonl"
    rows = [{"id": f"s{i}", "code": "def f(x):\n    return x", "input": str(i), "output": str(i)}
            for i in range(10)]  # fmt: skip
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [it["id"] for it in evaluate.load_items(data, 3, 1, 4)] == ["s1", "s5", "s9"]
    assert [it["id"] for it in evaluate.load_items(data, 2, 1, 4)] == ["s1", "s5"]
    assert len(evaluate.load_items(data)) == 10
    file = tmp_path / "paths.jsonl"
    main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--offset", "2",
          "--every", "3", "--limit", "5", "--save-paths", str(file)])  # fmt: skip
    lines = [json.loads(line) for line in file.read_text().splitlines()]
    assert lines[0]["every"] == 3 and lines[0]["offset"] == 2
    assert [it["id"] for it in lines[1:]] == ["s2", "s5", "s8"]
    # Without --every the header is as before, so files sampled before it still resume.
    plain = tmp_path / "plain.jsonl"
    main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--limit", "1",
          "--save-paths", str(plain)])  # fmt: skip
    assert "every" not in json.loads(plain.read_text().splitlines()[0])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--every", "0"])
    assert "argument --every: must be at least 1, got 0" in capsys.readouterr().err


def test_eval_asks_sc_with_the_settings_paths_and_saves_as_many_by_default(tmp_path, capsys):
    from ponder.server.cli import main

    data = one_item_file(tmp_path)
    out = tmp_path / "eval.json"
    main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--strategies", "sc",
          "--json", str(out)])  # fmt: skip
    result = json.loads(out.read_text())
    # `sc` is the shipped default's vote: the settings' 6 paths, the greedy one among them.
    assert result["samples"] == 6
    assert sum(c["count"] for c in result["items"][0]["candidates"]) == 6
    paths = tmp_path / "paths.jsonl"
    main(["eval", "cruxeval", "--data", str(data), "--model", "scripted", "--limit", "1",
          "--save-paths", str(paths)])  # fmt: skip
    lines = [json.loads(line) for line in paths.read_text().splitlines()]
    assert lines[0]["samples"] == 5 and len(lines[1]["paths"]) == 6  # 5 sampled + the greedy one
    capsys.readouterr()


def test_split_scores_only_the_items_of_that_sides_functions(tmp_path, capsys):
    from ponder.server.cli import main

    data = tmp_path / "items.jsonl"
    rows = [{"id": f"s{i}", "code": f"def f(x):\n    return x + {i}", "input": "0", "output": str(i)}
            for i in range(20)]  # fmt: skip
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    held = [r["id"] for r in rows if evaluate.in_validation(r["code"])]
    assert 0 < len(held) < len(rows)
    items = [{**item(["1"] * 6, [True] * 6), "id": r["id"]} for r in rows]
    file = write_paths(tmp_path / "paths.jsonl", [{**HEADER, "data": str(data)}, *items])
    main(["eval", "aggregate", str(file), "--rules", "greedy", "--split", "validation"])
    assert f"RESULT n={len(held)} strategy=greedy" in capsys.readouterr().out
    main(["eval", "aggregate", str(file), "--rules", "greedy", "--split", "train"])
    assert f"RESULT n={len(rows) - len(held)} strategy=greedy" in capsys.readouterr().out
    data.unlink()
    with pytest.raises(SystemExit):
        main(["eval", "aggregate", str(file), "--split", "validation"])
    assert "--split needs the items' data file" in capsys.readouterr().err
