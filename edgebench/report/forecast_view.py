"""`edgebench forecast`'s output: per delegate a line of counts, then the ops worth a look (forecast to fall off,
never seen, or measured otherwise), each forecast marked as one beside the measured placement where it exists."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgebench.forecast import DelegateForecast, Fate, ModelForecast, Prediction

HEADERS = ("#", "op", "key", "predicted", "basis", "measured")


def _measured(found: DelegateForecast, p: Prediction) -> str:
    if found.measured is None:
        return "—"
    return "delegated" if found.measured.delegated[p.index] else "fell off"


def _worth_a_look(found: DelegateForecast, p: Prediction) -> bool:
    measured = _measured(found, p)
    return p.fate is not Fate.DELEGATED or measured == "fell off"


def summary(forecast: ModelForecast, found: DelegateForecast) -> str:
    n = len(found.predictions)
    line = (
        f"{found.delegate} on {forecast.device}: predicted {found.count(Fate.FELL_OFF)} of {n} ops fall off, "
        f"{found.count(Fate.DELEGATED)} delegated, {found.count(Fate.NO_HISTORY)} never seen"
    )
    if found.measured is not None:
        off = found.measured.delegated.count(False)
        right = sum(
            (p.fate is Fate.DELEGATED) == taken
            for p, taken in zip(found.predictions, found.measured.delegated, strict=True)
            if p.fate is not Fate.NO_HISTORY
        )
        line += f"; measured (run {found.measured.run_id}): {off} fell off, the forecast right on {right} ops"
    return line


def rows(found: DelegateForecast) -> list[list[str]]:
    return [
        [str(p.index), p.key.op, p.key.label, f"{p.fate} (predicted)", p.basis, _measured(found, p)]
        for p in found.predictions
        if _worth_a_look(found, p)
    ]


def render(forecast: ModelForecast, console: Console) -> None:
    console.print(
        f"forecast for {forecast.model.name} from {forecast.device}'s history of {len(forecast.models_seen)} "
        "models (a forecast, not a measurement: `edgebench run` measures)",
        markup=False,
        highlight=False,
    )
    for found in forecast.delegates:
        console.print(summary(forecast, found), markup=False, highlight=False)
        listed = rows(found)
        if not listed:
            continue
        table = Table(title=f"ops to check · {found.delegate}", title_justify="left")
        for k, header in enumerate(HEADERS):
            table.add_column(header, justify="right" if k == 0 else "left")
        for row in listed:
            table.add_row(*(escape(c) for c in row))
        console.print(table)


def as_json(forecast: ModelForecast) -> dict[str, object]:
    return {
        "model": str(forecast.model),
        "device": forecast.device,
        "history_models": forecast.models_seen,
        "delegates": [
            {
                "delegate": found.delegate,
                "summary": summary(forecast, found),
                "measured_run": found.measured.run_id if found.measured else None,
                "ops": [
                    {
                        "index": p.index,
                        "op": p.key.op,
                        "key": p.key.label,
                        "predicted": str(p.fate),
                        "level": p.level,
                        "delegated_seen": p.delegated,
                        "fell_off_seen": p.fell_off,
                        "measured": None if found.measured is None else _measured(found, p),
                    }
                    for p in found.predictions
                ],
            }
            for found in forecast.delegates
        ],
    }
