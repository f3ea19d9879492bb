"""The candidates a tune may measure, read from the recipes' own declarations (``VariantSpec.search`` in
``edgebench_records.catalogue``): the tuner knows no recipe by name, so a recipe's new setting is one
``SearchRange`` beside it."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from edgebench.errors import EdgebenchError
from edgebench_records.catalogue import SEARCHABLE, VARIANT_SPECS, Effect, Options, SearchRange
from edgebench_records.options import declared

Setting = float | int
# Which options are counts (clusters): every other searched option is a share, named in percent.
_COUNTS = frozenset(spec.name for spec in declared(Options) if spec.item is int)


class Trial(Protocol):
    """What a search asks a candidate's settings of (Optuna's ``Trial`` does all three)."""

    def suggest_categorical(self, name: str, choices: list[str]) -> str: ...

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None, log: bool) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int, log: bool) -> int: ...


def shown(option: str, value: Setting) -> str:
    """A setting as candidate names and sentences show it: a share in percent, a count as it is."""
    return str(int(value)) if option in _COUNTS else str(round(float(value) * 100))


@dataclass(frozen=True)
class Candidate:
    """One recipe at one set of settings: the unit a tune converts, measures and stores as a variant."""

    recipe: str
    settings: tuple[tuple[str, Setting], ...] = ()  # (option, value), in the recipe's declaration order

    @property
    def name(self) -> str:
        """``pruned_int8-s70``: the variant's name in the run, a file name and a cell id's first part."""
        ranges = {r.option: r for r in _ranges(self.recipe)}
        parts = [f"{ranges[option].short}{shown(option, value)}" for option, value in self.settings]
        return "-".join([self.recipe, *parts])

    @classmethod
    def stored(cls, recipe: str, settings: Mapping[str, Setting]) -> Candidate:
        """A candidate as a run's plan keeps it (its settings by option, in whatever order the record wrote them:
        JSON sorted them): back in the recipe's declaration order, so its name is the one it was measured under."""
        return cls(recipe, tuple((r.option, settings[r.option]) for r in _ranges(recipe) if r.option in settings))

    def options(self, base: Options) -> Options:
        changes: dict[str, Any] = dict(self.settings)
        return dataclasses.replace(base, **changes)

    def keeps_all_of(self, other: Candidate) -> bool:
        """Whether this candidate's model keeps all of ``other``'s: the same recipe, each width setting at least
        ``other``'s and every other setting but how the model recovers the same. Such a model is never smaller,
        nor on a CPU faster (more channels, streams or rank are more multiply-adds)."""
        if self.recipe != other.recipe:
            return False
        theirs = dict(other.settings)
        effects = {r.option: r.effect for r in _ranges(self.recipe)}
        return all(
            option in theirs  # a plan written before the range was searched: nothing to compare with
            and (value >= theirs[option] if effects[option] is Effect.WIDTH else value == theirs[option])
            for option, value in self.settings
            if effects[option] is not Effect.TRAINING
        )

    def describe(self) -> str:
        """``pruned_int8 with 70 % sparsity and 8 clusters``; a recipe without settings is its name."""
        ranges = {r.option: r for r in _ranges(self.recipe)}
        said = [ranges[option].says.format(shown(option, value)) for option, value in self.settings]
        return self.recipe if not said else f"{self.recipe} with {' and '.join(said)}"


def _ranges(recipe: str) -> tuple[SearchRange, ...]:
    return VARIANT_SPECS[recipe].search or ()


@dataclass(frozen=True)
class SearchSpace:
    """The recipes searched, each over its declared ranges."""

    recipes: tuple[str, ...]

    def ranges(self, recipe: str) -> tuple[SearchRange, ...]:
        return _ranges(recipe)

    def suggest(self, trial: Trial) -> Candidate:
        """The candidate a trial asks for: a recipe, then each of its settings (named per recipe, so the
        sampler models each recipe's own settings apart)."""
        recipe = trial.suggest_categorical("recipe", list(self.recipes))
        return Candidate(recipe, tuple((r.option, _suggest(trial, recipe, r)) for r in self.ranges(recipe)))

    def grid(self) -> list[Candidate]:
        """Every candidate the space holds: each range is discrete (a step, or whole counts on a log scale)."""
        out = []
        for recipe in self.recipes:
            ranges = self.ranges(recipe)
            for values in itertools.product(*(_values(r) for r in ranges)):
                out.append(Candidate(recipe, tuple(zip((r.option for r in ranges), values, strict=True))))
        return out

    def params(self, candidate: Candidate) -> dict[str, Any]:
        """The trial parameters that ask for ``candidate`` (what ``suggest`` reads back)."""
        named = {r.option: setting_name(candidate.recipe, r) for r in self.ranges(candidate.recipe)}
        return {"recipe": candidate.recipe} | {named[option]: value for option, value in candidate.settings}


def _values(r: SearchRange) -> list[Setting]:
    if r.option in _COUNTS:
        return list(range(int(r.low), int(r.high) + 1, 1 if r.log else int(r.step)))
    return [round(r.low + k * r.step, 6) for k in range(round((r.high - r.low) / r.step) + 1)]


def setting_name(recipe: str, r: SearchRange) -> str:
    """A setting's name in the study: per recipe, so the sampler models each recipe's settings apart."""
    return f"{recipe}:{r.option}"


def _suggest(trial: Trial, recipe: str, r: SearchRange) -> Setting:
    name = setting_name(recipe, r)
    if r.option in _COUNTS:
        return trial.suggest_int(name, int(r.low), int(r.high), step=1 if r.log else int(r.step), log=r.log)
    value = trial.suggest_float(name, r.low, r.high, step=None if r.log else r.step, log=r.log)
    return round(value, 6)  # 0.7, not 0.7000000000000001: the same setting, the same name


def search_space(recipes: list[str], trains: bool) -> SearchSpace:
    """The space of ``--variants`` (empty: every recipe that declares a search); ``trains``: the model can be
    fine-tuned (a Keras model with labels), else the recipes that fine-tune are left out, or refused when named."""
    for name in recipes:
        if name not in VARIANT_SPECS:
            raise EdgebenchError(f"--variants {name}: no such variant (see edgebench convert --help)")
        if VARIANT_SPECS[name].search is None:
            why = "the baseline every candidate is compared with" if name == "fp32" else "it needs a --student"
            raise EdgebenchError(f"--variants {name}: not a tune candidate ({why})")
        if VARIANT_SPECS[name].trains and not trains:
            raise EdgebenchError(f"--variants {name}: fine-tunes, which needs a Keras model and labelled --data")
    chosen = recipes or [name for name in SEARCHABLE if trains or not VARIANT_SPECS[name].trains]
    return SearchSpace(tuple(chosen))
