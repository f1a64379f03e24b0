"""Whether extra rows in a batch are cheap here, from measured decode steps."""

from agent.step_costs import MIN_STEPS, StepCosts


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
