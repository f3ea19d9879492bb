"""`edgebench tune` without TensorFlow or a device: the search space as the recipes declare it, the front and the
sentence, and the search as a run (what is kept, what a resume reads back, each bad input in one line) with the
converter and the device replaced by fakes that write the same records."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import edgebench_records as schema
from device_runner.sweep import CellDone, result_path
from edgebench.cli import invoke
from edgebench.errors import EdgebenchError, ExitCode, LinkLost
from edgebench.inventory import Inventory
from edgebench.progress import Silent
from edgebench.store import Store, store_url
from edgebench.tune import candidates, job
from edgebench.tune.candidates import Source
from edgebench.tune.front import Point, TimeBase, beside, is_beside, pareto, recommend
from edgebench.tune.limits import Limits, parse_duration, show_duration
from edgebench.tune.search import Loop, Measured, OutOfBudget, Progress, Stop, open_study, run
from edgebench.tune.space import Candidate, SearchSpace, search_space
from edgebench_records import (
    CellResult,
    Manifest,
    Measurement,
    Memory,
    Plan,
    Status,
    Timing,
    VariantRecord,
    VariantState,
)
from edgebench_records.catalogue import CATALOGUE, VARIANT_SPECS, Options
from edgebench_records.tune import Search
from tests.spec.test_timing_schedule import cell

# --- the search space, as each recipe declares it


class FirstChoice:
    """A trial answering every question with the lowest value (or the named recipe)."""

    def __init__(self, recipe: str) -> None:
        self.recipe = recipe

    def suggest_categorical(self, name: str, choices: list[str]) -> str:
        assert self.recipe in choices
        return self.recipe

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None, log: bool) -> float:
        return low + 0.1 if step is None else low + 8 * step  # 0.3 + 8 × 0.05: 0.7000000000000001

    def suggest_int(self, name: str, low: int, high: int, *, step: int, log: bool) -> int:
        return 8


def test_each_recipe_declares_its_search_beside_it_and_the_tuner_reads_it_generically() -> None:
    searched = {spec.name: [r.option for r in spec.search or ()] for spec in CATALOGUE}
    assert searched["pruned_int8"] == ["sparsity"] and searched["clustered_int8"] == ["clusters"]
    assert searched["channel_pruned_int8"] == ["channel_ratio", "stream_ratio", "recovery_factor"]
    assert searched["low_rank"] == ["low_rank_energy", "recovery_factor"] and searched["int8"] == []
    space = SearchSpace(("int8", "pruned_clustered_int8"))
    candidate = space.suggest(FirstChoice("pruned_clustered_int8"))
    assert candidate.settings == (("sparsity", 0.7), ("clusters", 8))
    assert candidate.name == "pruned_clustered_int8-s70-k8"
    assert candidate.describe() == "pruned_clustered_int8 with 70 % sparsity and 8 clusters"
    assert candidate.options(Options()).sparsity == 0.7 and candidate.options(Options()).clusters == 8
    assert space.suggest(FirstChoice("int8")) == Candidate("int8")
    narrow = Candidate("channel_pruned_int8", (("channel_ratio", 0.4), ("stream_ratio", 1.0), ("recovery_factor", 40)))
    assert narrow.name == "channel_pruned_int8-c40-r100-x40"
    assert narrow.describe().endswith("100 % of the residual streams and recovery over 40 × --epochs")


def narrowed(channels: float, streams: float = 1.0, recovery: int = 20) -> Candidate:
    settings = (("channel_ratio", channels), ("stream_ratio", streams), ("recovery_factor", recovery))
    return Candidate("channel_pruned_int8", settings)


def test_a_model_keeps_all_of_another_when_it_is_as_wide_or_wider_whatever_their_recovery() -> None:
    assert narrowed(0.75, 0.8, 20).keeps_all_of(narrowed(0.55, 0.8, 60))  # recovery changes no layer's shape
    assert narrowed(0.55, 0.8, 60).keeps_all_of(narrowed(0.55, 0.8, 20))
    assert not narrowed(0.75, 0.7).keeps_all_of(narrowed(0.55, 0.8))  # fewer streams: narrower there
    older = Candidate("channel_pruned_int8", (("channel_ratio", 0.55),))  # a plan from before streams were searched
    assert not narrowed(0.75).keeps_all_of(older)
    low_rank = Candidate("low_rank", (("low_rank_energy", 0.9), ("recovery_factor", 20)))
    assert low_rank.keeps_all_of(Candidate("low_rank", (("low_rank_energy", 0.8), ("recovery_factor", 60))))
    # sparsity and clusters may change size or speed either way: only the same setting says anything
    pruned = Candidate("pruned_int8", (("sparsity", 0.7),))
    assert not pruned.keeps_all_of(Candidate("pruned_int8", (("sparsity", 0.5),)))
    assert not Candidate("channel_pruned", narrowed(0.75).settings).keeps_all_of(narrowed(0.55))  # another recipe


def test_the_space_leaves_out_what_the_model_cannot_make_and_refuses_a_named_one() -> None:
    assert "pruned_int8" not in search_space([], trains=False).recipes
    assert {"int8", "pruned_int8", "channel_pruned_int8"} <= set(search_space([], trains=True).recipes)
    assert "fp32" not in search_space([], trains=True).recipes
    with pytest.raises(EdgebenchError, match="--variants fp32: not a tune candidate"):
        search_space(["fp32"], trains=True)
    with pytest.raises(EdgebenchError, match="--variants pruned_int8: fine-tunes"):
        search_space(["pruned_int8"], trains=False)


def test_budgets_read_as_a_user_writes_them() -> None:
    assert [parse_duration(t) for t in ("30m", "1h30m", "90s", "45")] == [1800, 5400, 90, 45]
    assert show_duration(5400) == "1h30m" and show_duration(750) == "12m30s"
    for bad in ("soon", "0", "0m", "-5m"):
        with pytest.raises(ValueError, match=r"duration|no time"):
            parse_duration(bad)


# --- the front and the sentence

FP32 = Point("fp32", "fp32", 99.0, 1.0)


def test_the_front_keeps_what_nothing_beats_and_the_recommendation_reads_as_a_sentence() -> None:
    points = [
        FP32,
        Point("int8", "int8", 98.9, 0.5),
        Point("pruned_int8-s70", "pruned_int8 with 70 % sparsity", 98.4, 0.4),
        Point("pruned_int8-s90", "pruned_int8 with 90 % sparsity", 96.0, 0.3),
        Point("fp16", "fp16", 98.0, 0.9),  # beaten by int8 on both
    ]
    assert [p.name for p in pareto(points)] == ["pruned_int8-s90", "pruned_int8-s70", "int8", "fp32"]
    rec = recommend(points, FP32, Search(max_accuracy_drop=1.0), "pixel")
    assert rec is not None
    assert rec.sentence() == "pruned_int8 with 70 % sparsity: 2.5x faster than fp32 at -0.6 points on pixel"
    size = recommend(points, FP32, Search(objective="size", max_accuracy_drop=5), "pi4")
    assert size is not None and "3.3x smaller than fp32 at -3.0 points on pi4" in size.sentence()


def test_no_recommendation_when_no_candidate_is_within_the_drop_or_faster_than_fp32() -> None:
    assert recommend([FP32, Point("int8", "int8", 97.0, 0.5)], FP32, Search(max_accuracy_drop=1), "d") is None
    assert recommend([FP32, Point("fp16", "fp16", 99.0, 1.2)], FP32, Search(max_accuracy_drop=1), "d") is None


# --- the search loop, with a bench that only looks figures up


class Clock:
    def __init__(self, step: float = 1.0) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class LookUp:
    """A bench that measures each candidate once, by its name's figures, and reads repeats back."""

    def __init__(self) -> None:
        self.measured: list[str] = []

    def measure(self, candidate: Candidate) -> Measured:
        accuracy, value = figures(candidate.recipe, dict(candidate.settings))
        point = Point(candidate.name, candidate.describe(), 100 * accuracy, value)
        fresh = candidate.name not in self.measured
        self.measured += [candidate.name] if fresh else []
        return Measured(point, fresh=fresh)


def loop(tmp_path: Path, bench: Any, limits: Limits, clock: Callable[[], float], name: str = "s") -> Loop:
    study = open_study(tmp_path / "study.journal", name, seed=0)
    space = SearchSpace(("int8", "fp16", "pruned_int8"))
    return Loop(study, space, bench, Search(), limits, Silent().task("t", 1), clock, clock())


def test_a_candidate_asked_for_again_is_read_back_not_measured_and_the_study_resumes_from_its_journal(
    tmp_path: Path,
) -> None:
    bench = LookUp()
    found = Progress([FP32])
    assert run(loop(tmp_path, bench, Limits(budget="1h", trials=4), Clock()), found) is Stop.TRIALS
    assert len(bench.measured) == len(set(bench.measured)) == found.measured == 4
    resumed = loop(tmp_path, bench, Limits(budget="1h", trials=3), Clock())
    assert len(resumed.study.trials) >= 4  # the first invocation's trials, from the journal
    run(resumed, Progress([FP32]))
    assert len(resumed.study.trials) >= 7  # three more trials on top of the journal's
    # a resumed sampler draws afresh (reseeded), so it may ask for a candidate measured before: read back, never
    # measured twice
    assert len(bench.measured) == len(set(bench.measured)) >= 4


def test_a_space_measured_through_stops_as_exhausted(tmp_path: Path) -> None:
    bench = LookUp()
    small = dataclasses.replace(loop(tmp_path, bench, Limits(trials=50), Clock()), space=SearchSpace(("int8",)))
    assert run(small, Progress([FP32])) is Stop.EXHAUSTED
    assert bench.measured == ["int8"]


def test_a_sampler_that_asks_again_is_steered_to_an_unmeasured_candidate_until_the_space_is_measured_through(
    tmp_path: Path,
) -> None:
    """TPE returns to what looked good (int8 has no settings: one candidate however often it is asked for); the
    search stops as exhausted only once every candidate of the space was measured, never sooner."""
    bench = LookUp()
    space = SearchSpace(("int8", "pruned_int8"))
    small = dataclasses.replace(loop(tmp_path, bench, Limits(trials=50), Clock()), space=space)
    assert run(small, Progress([FP32])) is Stop.EXHAUSTED
    assert sorted(bench.measured) == sorted(candidate.name for candidate in space.grid())  # all 14, each once


def test_a_candidate_that_keeps_all_of_a_model_no_better_than_the_best_within_the_drop_is_not_made(
    tmp_path: Path,
) -> None:
    """Wider than a model measured already, it can only be as slow or slower: when that model is no faster than
    the best within the drop, the candidate cannot change the recommendation, and its minutes of fine-tuning go
    to one that can."""
    bench = LookUp()
    space = SearchSpace(("channel_pruned_int8",))
    search = dataclasses.replace(loop(tmp_path, bench, Limits(trials=40), Clock()), space=space)
    found = Progress([FP32])
    run(search, found)
    assert found.passed_over > 0 and found.measured == len(bench.measured) == 40
    measured = {c.name: c for c in space.grid()}
    for i, name in enumerate(bench.measured):
        earlier = [measured[n] for n in bench.measured[:i]]
        points = [FP32, *(found.points_of[c] for c in earlier)]
        best = min(p.value for p in points if FP32.accuracy - p.accuracy <= 1)
        beaten = [c.name for c in earlier if found.points_of[c].value >= best and measured[name].keeps_all_of(c)]
        assert not beaten, f"{name} was made though it keeps all of {beaten}, no better than {best}"


class NothingToPruneAtTheEdge(LookUp):
    """A recipe the model takes, but whose setting at one end of its range leaves nothing to do."""

    def measure(self, candidate: Candidate) -> Measured:
        if dict(candidate.settings).get("sparsity") == 0.3:
            return Measured(None, "not_applicable: nothing to prune", unusable=True)
        return super().measure(candidate)


def test_a_recipe_made_at_other_settings_stays_in_the_search_when_one_setting_is_not_applicable(
    tmp_path: Path,
) -> None:
    bench = NothingToPruneAtTheEdge()
    space = SearchSpace(("int8", "pruned_int8"))
    small = dataclasses.replace(loop(tmp_path, bench, Limits(trials=50), Clock()), space=space)
    small.study.enqueue_trial({"recipe": "pruned_int8", "pruned_int8:sparsity": 0.5})  # made first, as the defaults
    assert run(small, Progress([FP32])) is Stop.EXHAUSTED
    assert sorted(bench.measured) == sorted(c.name for c in space.grid() if dict(c.settings).get("sparsity") != 0.3)


def test_a_budget_spent_before_any_candidate_is_refused_and_one_spent_later_stops_the_search(tmp_path: Path) -> None:
    with pytest.raises(OutOfBudget, match=r"--budget 10s ran out before any candidate was measured \(fp32 alone"):
        run(loop(tmp_path, LookUp(), Limits(budget="10s"), Clock(step=20)), Progress([FP32]))
    found = Progress([FP32])
    assert run(loop(tmp_path, LookUp(), Limits(budget="50s"), Clock(step=10), "t"), found) is Stop.BUDGET
    assert 1 <= found.measured < 4


# --- the search as a run: a fake converter and a fake device writing the real records


def figures(recipe: str, settings: dict[str, Any]) -> tuple[float, float]:
    """(host top-1, p50 ms) of a candidate: sparsity buys speed and costs accuracy; so does removing channels and
    streams, which a longer recovery wins back."""
    sparsity = float(settings.get("sparsity", 0.0))
    kept = float(settings.get("channel_ratio", 1.0)) * float(settings.get("stream_ratio", 1.0))
    recovery = float(settings.get("recovery_factor", 20))
    return {
        "channel_pruned_int8": (0.99 - 0.08 * (1 - kept) * 20 / recovery, 0.1 + 0.4 * kept),
        "fp32": (0.99, 1.0),
        "fp16": (0.99, 0.95),
        "int8": (0.985, 0.5),
        "pruned_int8": (0.99 - 0.03 * sparsity, 0.5 - 0.3 * sparsity),
        "pruned_clustered_int8": (0.99 - 0.03 * sparsity, 0.45 - 0.3 * sparsity),
    }[recipe]


class FakeConverter:
    def __init__(self, reads_settings: bool = True) -> None:
        self.made: list[str] = []
        self.reads_settings = reads_settings  # False: every setting of a recipe makes the same file

    def __call__(self, model: Path, data: Path | None, variants: list[str], workdir: Path, *, options: Options) -> Any:
        (recipe,) = variants
        settings = {r.option: getattr(options, r.option) for r in VARIANT_SPECS[recipe].search or ()}
        self.made.append(recipe)
        folder = workdir / "variants" / "-".join([recipe, *map(str, settings.values())])
        folder.mkdir(parents=True, exist_ok=True)
        made = made_bytes(recipe, settings if self.reads_settings else {})
        (folder / f"{recipe}.tflite").write_bytes(made)
        arrays: dict[str, Any] = {"x.0": np.zeros((4, 2)), "y": np.zeros(4), f"ref.{recipe}.0": np.ones(4)}
        np.savez(folder / "inputs.npz", **arrays)
        top1 = figures(recipe, settings)[0]
        digest = hashlib.sha256(made).hexdigest()
        record = VariantRecord(
            recipe, VariantState.OK, recipe, file=f"{recipe}.tflite", sha256=digest, size_bytes=1000, host_top1=top1
        )
        return Manifest("digits", "m" * 64, "key", "inputs.npz", [record], {"task": "auto"}), folder


def made_bytes(recipe: str, settings: dict[str, Any]) -> bytes:
    return f"{recipe}{sorted(settings.items())}".encode() * 100


class FakeDevice:
    """Runs the plan as a sweep would: a result for each cell that has none; ``lose_after`` runs, the link drops."""

    name = "fake"

    def __init__(self, lose_after: int | None = None, slower_each_sweep: float = 1.0) -> None:
        self.runs, self.cells, self.lose_after = 0, 0, lose_after
        self.slower_each_sweep = slower_each_sweep  # the device's speed changing while a search goes on

    def run(self, plan_path: Path, results_dir: Path, on_cell: Callable[[CellDone], None]) -> None:
        if self.lose_after is not None and self.runs >= self.lose_after:
            raise LinkLost("device fake: link lost (connection reset)")
        self.runs += 1
        plan = schema.read(Plan, plan_path)
        results_dir.mkdir(parents=True, exist_ok=True)
        for key in plan.cells():
            if not result_path(results_dir, key).exists():
                variant = plan.variant(key.variant)
                p50 = figures(variant.made_by, variant.settings)[1] * self.slower_each_sweep ** (self.runs - 1)
                timing = Timing(1.0, 1.0, 1, [p50] * 5, p50, p50, p50, p50, 0.0, p50, p50, 0.0)
                memory = Memory(1.0, 2.0, 1.0, 30.0)
                cell = CellResult(plan.run_id, key.variant, key.delegate, key.threads, Status.OK, timing=timing,
                                  memory=memory, started_at="2026-12-06T10:00:00",
                                  finished_at="2026-12-06T10:00:02")  # fmt: skip
                schema.write(result_path(results_dir, key), cell)
                self.cells += 1


def request(tmp_path: Path, **changes: Any) -> job.TuneRequest:
    (tmp_path / "m.keras").write_bytes(b"model")
    source = Source(
        tmp_path / "m.keras", None, tmp_path / "work", Options(), Measurement(delegates=["xnnpack"]), Search()
    )
    base = job.TuneRequest(
        source, "fake", SearchSpace(("int8", "pruned_int8")), Limits(trials=4), str(tmp_path / "h.sqlite"),
        Inventory(None, {}), out=tmp_path / "best.tflite",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeConverter, list[FakeDevice]]:
    converter, devices = FakeConverter(), [FakeDevice()]
    monkeypatch.setattr(candidates, "convert", converter)
    monkeypatch.setattr(job, "get_device", lambda *args: devices[0])
    return converter, devices


def test_a_tune_stores_every_candidate_as_a_cell_with_its_settings_and_writes_the_chosen_file(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    outcome = job.tune(request(tmp_path), Silent())
    rec = outcome.front.recommendation
    assert rec is not None and rec.point.name.startswith(("pruned_int8-s", "int8"))
    assert rec.drop <= 1.0 and rec.ratio > 1.0
    with Store(outcome.store) as store:
        stored = store.load_run(outcome.run_id)
    assert stored.plan.tune == Search()
    # fp32, then each recipe at the run's options (int8 first: it fine-tunes nothing), then the search's own;
    # each candidate with fp32 timed beside it (latency, the default objective)
    made = [v for v in stored.plan.variants if not is_beside(v.name)]
    assert [v.name for v in made[:3]] == ["fp32", "int8", "pruned_int8-s50"]
    assert [v.name for v in stored.plan.variants if is_beside(v.name)] == [beside(v.name) for v in made[1:]]
    assert {c.variant for c in stored.cells} == {v.name for v in stored.plan.variants}
    pruned = [v for v in made if v.recipe == "pruned_int8"]
    assert pruned and all(v.name == f"pruned_int8-s{round(v.settings['sparsity'] * 100)}" for v in pruned)
    chosen = next(v for v in stored.plan.variants if v.name == rec.point.name)
    assert (tmp_path / "best.tflite").read_bytes() == made_bytes(chosen.made_by, chosen.settings)
    assert outcome.device_s == pytest.approx(2.0 * len(stored.cells))


def test_a_candidate_s_latency_is_read_against_fp32_timed_beside_it_so_a_device_slowing_down_does_not_rank_it(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    _, devices = fakes
    devices[0] = FakeDevice(slower_each_sweep=2.0)  # each candidate measured at half the speed of the one before
    outcome = job.tune(request(tmp_path, space=SearchSpace(("int8",)), limits=Limits(trials=1)), Silent())
    rec = outcome.front.recommendation
    assert rec is not None and rec.point.name == "int8"
    # int8 ran at 0.5 ms against fp32's 1.0 in the first sweep, but its own sweep ran twice as slow: read against
    # fp32 timed beside it, it is still twice as fast (alone, its 1.0 ms would have tied fp32)
    assert rec.ratio == pytest.approx(2.0)
    with Store(outcome.store) as store:
        stored = store.load_run(outcome.run_id)
    p50 = {c.variant: c.timing.p50_ms for c in stored.cells if c.timing}
    assert p50 == {"fp32": 1.0, "int8": 1.0, beside("int8"): 2.0}


def test_settings_that_make_a_file_already_measured_are_read_as_that_file_not_measured_again(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model the setting does not touch (a stream ratio without residual streams, here any sparsity): every
    pruned_int8 candidate is the same file, measured once; the search then runs out of new files."""
    _, devices = fakes
    monkeypatch.setattr(candidates, "convert", FakeConverter(reads_settings=False))
    base = request(tmp_path, space=SearchSpace(("pruned_int8",)), limits=Limits(trials=5, budget="1h"))
    lenient = dataclasses.replace(base.source, aim=Search(max_accuracy_drop=2.0))  # s50 loses 1.5 points
    outcome = job.tune(dataclasses.replace(base, source=lenient), Silent())
    assert outcome.stop is Stop.EXHAUSTED and outcome.measured_now == 1 and outcome.notes == []
    with Store(outcome.store) as store:
        stored = store.load_run(outcome.run_id)
    assert [v.name for v in stored.plan.variants] == ["fp32", "pruned_int8-s50", beside("pruned_int8-s50")]
    assert devices[0].cells == 3  # fp32, the one pruned_int8 file, and fp32 beside it
    assert [p.name for p in outcome.front.points] == ["fp32", "pruned_int8-s50"]


def test_a_candidate_is_read_against_fp32_beside_it_block_by_block_not_by_the_two_p50s() -> None:
    """The device switches between two speeds 58 % apart while the candidate and its fp32 twin take turns, and
    one block pair straddles a switch: the two p50s would make the candidate 1.5x slower than fp32; each block
    pair says 1.19x, so on fp32's first time base (1 ms) the candidate is 1.19 ms."""
    speeds = [1.0] * 10 + [1.58] * 10
    twin = [[s * 0.5] * 10 for s in speeds]
    candidate = [[s * 0.5 * 1.19] * 10 for s in speeds]
    twin[10] = [0.5] * 10  # fp32's half of the straddling pair ran before the switch
    flat = [[v for block in side for v in block] for side in (candidate, twin)]
    base = TimeBase([cell("fp32", [1.0] * 200, [10] * 20, "first")], [cell(beside("int8"), flat[1], [10] * 20, "g")])
    p50, twin_p50 = (float(np.median(side)) for side in flat)
    assert p50 / twin_p50 > 1.5  # what dividing the p50s reads
    assert base.on_base(cell("int8", flat[0], [10] * 20, "g"), p50) == pytest.approx(1.19, rel=1e-3)


def test_a_size_search_times_no_fp32_beside_its_candidates(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    size = dataclasses.replace(request(tmp_path).source, aim=Search(objective="size"))
    with pytest.raises(EdgebenchError, match="no candidate beats fp32"):  # the fake's files are all one size
        job.tune(request(tmp_path, source=size), Silent())
    (plan_path,) = (tmp_path / "work").rglob("plan.json")
    names = [v.name for v in schema.read(Plan, plan_path).variants]
    assert "int8" in names and not [name for name in names if is_beside(name)]


def test_a_device_lost_mid_search_keeps_what_was_measured_and_a_resume_measures_only_the_rest(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    _, devices = fakes
    devices[0] = FakeDevice(lose_after=3)  # fp32, then two candidates
    with pytest.raises(EdgebenchError) as lost:
        job.tune(request(tmp_path), Silent())
    message = str(lost.value)
    assert "link lost" in message and "\n" not in message and lost.value.code == ExitCode.USAGE
    run_id = message.split()[1].rstrip(":")
    assert message.endswith(f"continue with edgebench tune --resume {run_id}")
    measured = devices[0].cells
    devices[0] = FakeDevice()
    outcome = job.tune(request(tmp_path, resume=run_id, limits=Limits(trials=2)), Silent())
    assert outcome.run_id == run_id and outcome.measured_now <= 2
    # fp32 and the two candidates measured before the link dropped were read back, not measured again; a candidate
    # is two cells (itself and fp32 timed beside it), and one made but cut off before its sweep is finished
    assert devices[0].cells == 2 * outcome.measured_now + (2 if measured == 1 + 2 * 2 else 0)


def test_a_resume_reads_back_a_candidate_of_several_settings_under_the_name_it_was_measured_under(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    """The plan keeps settings by option and JSON sorts them (clusters before sparsity); the name follows the
    recipe's declaration (sparsity, then clusters): read back in the record's order, a resume would make and
    measure the candidate again under another name."""
    converter, devices = fakes
    devices[0] = FakeDevice(lose_after=2)  # fp32, then one candidate
    base = request(tmp_path, space=SearchSpace(("pruned_clustered_int8",)))
    first = dataclasses.replace(base, source=dataclasses.replace(base.source, aim=Search(max_accuracy_drop=2.0)))
    with pytest.raises(EdgebenchError) as lost:
        job.tune(first, Silent())
    run_id = str(lost.value).split()[1].rstrip(":")
    devices[0] = FakeDevice()
    outcome = job.tune(dataclasses.replace(first, resume=run_id, limits=Limits(trials=1)), Silent())
    with Store(outcome.store) as store:
        stored = store.load_run(outcome.run_id)
    made = [v.name for v in stored.plan.variants if v.made_by == "pruned_clustered_int8"]
    assert made[0] == "pruned_clustered_int8-s50-k16" and len(made) == len(set(made)) >= 2
    assert all(re.fullmatch(r"pruned_clustered_int8-s\d+-k\d+", name) for name in made)
    # each candidate made once; every one but the first (measured before the link dropped) measured now, with
    # fp32 beside it
    assert converter.made.count("pruned_clustered_int8") == len(made)
    assert devices[0].cells == 2 * (len(made) - 1)


def test_a_resume_refuses_a_differing_aim_and_a_stored_tune(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    outcome = job.tune(request(tmp_path), Silent())
    differing = request(tmp_path, resume=outcome.run_id, given_flags={"--max-accuracy-drop": 2.0})
    with pytest.raises(EdgebenchError, match=r"--max-accuracy-drop 2.0 differs from the run's own 1.0"):
        job.tune(differing, Silent())
    with pytest.raises(EdgebenchError, match="is complete and stored"):
        job.tune(request(tmp_path, resume=outcome.run_id), Silent())


def test_no_candidate_within_the_drop_fails_without_storing_and_stays_resumable(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    strict = request(tmp_path)
    strict = dataclasses.replace(strict, source=dataclasses.replace(strict.source, aim=Search(max_accuracy_drop=0)))
    with pytest.raises(EdgebenchError) as none:
        job.tune(strict, Silent())
    assert none.value.code == ExitCode.FAILED
    assert "no candidate beats fp32 within --max-accuracy-drop 0 (closest: int8 at -0.5)" in str(none.value)
    assert "edgebench tune --resume" in str(none.value) and not (tmp_path / "best.tflite").exists()
    with Store(store_url(str(tmp_path / "h.sqlite"))) as store:
        assert store.list_runs() == []


def test_an_unreachable_budget_is_one_line_and_keeps_the_baseline(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]]
) -> None:
    with pytest.raises(EdgebenchError) as short:
        job.tune(request(tmp_path, limits=Limits(budget="5s")), Silent(), clock=Clock(step=10))
    assert short.value.code == ExitCode.USAGE
    assert "--budget 5s ran out before any candidate was measured" in str(short.value)
    assert "continue with edgebench tune --resume" in str(short.value)


def test_report_shows_a_stored_tune_s_front_and_sentence_above_its_cells(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]], capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = job.tune(request(tmp_path), Silent())
    sentence = outcome.front.recommendation.sentence() if outcome.front.recommendation else ""
    assert invoke(["report", outcome.run_id, "--store", outcome.store, "--markdown", "-"]) == 0
    page = capsys.readouterr().out
    assert f"### tune {outcome.run_id} on fake: latency within 1 points of fp32, " in page
    assert f"**Ship:** {sentence}" in page and "x faster than fp32 at -0." in sentence and sentence.endswith(" on fake")
    front_rows = [line for line in page.splitlines() if line.startswith("| ◆ |")]
    assert {row.split(" | ")[1] for row in front_rows} == {p.name for p in outcome.front.front}
    assert invoke(["report", outcome.run_id, "--store", outcome.store]) == 0
    assert "Ship:" in capsys.readouterr().out


def tune_on_the_fake(tmp_path: Path, *flags: str) -> int:
    """`edgebench tune` of a model and data file (the fake converter reads neither) on the fake device."""
    (tmp_path / "m.keras").write_bytes(b"model")
    (tmp_path / "d.npz").write_bytes(b"data")
    argv = ["tune", "--model", str(tmp_path / "m.keras"), "--data", str(tmp_path / "d.npz"), "--device", "fake"]
    argv += ["--quiet", "--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite"), *flags]
    return invoke(argv)


def test_the_command_prints_the_front_and_says_a_searched_flag_is_not_used(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert tune_on_the_fake(tmp_path, "--variants", "int8,pruned_int8", "--sparsity", "0.6", "--trials", "2") == 0
    out, err = capsys.readouterr()
    assert "edgebench: note: --sparsity is searched (for pruned_int8): it starts there" in err
    assert "Ship: " in out and "2 candidates measured in " in out and "edgebench report " in out


def test_the_command_counts_the_candidates_it_passed_over(
    tmp_path: Path, fakes: tuple[FakeConverter, list[FakeDevice]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert tune_on_the_fake(tmp_path, "--variants", "channel_pruned_int8", "--trials", "20") == 0
    passed = re.search(r"; (\d+) passed over \(they could not beat the best within the drop\)", capsys.readouterr().out)
    assert passed and int(passed[1]) > 0


def test_an_older_plan_reads_as_no_search_each_variant_its_own_recipe() -> None:
    plan = schema.read(Plan, Path(__file__).parents[1] / "data" / "records" / "plan-1.1.json")
    assert plan.tune is None
    assert all(v.made_by == v.name and v.settings == {} for v in plan.variants)
