"""Bar geometry for the ledger's inline SVG charts (no JavaScript): each bar's width is its
share of the largest absolute value, so the chart and its data table show the same figures."""

from dataclasses import dataclass

VIEW_WIDTH = 320  # the chart's viewBox: labels on the left, bars from BAR_X
BAR_X = 120
BAR_SPACE = 190
ROW = 28


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    cents: int
    y: int
    width: float

    @property
    def negative(self) -> bool:
        return self.cents < 0


def bars(items: list[tuple[str, str, int]]) -> list[Bar]:
    """(key, label, cents) -> bars, top to bottom."""
    largest = max((abs(cents) for _k, _l, cents in items), default=0) or 1
    return [
        Bar(key, str(label), cents, index * ROW, round(BAR_SPACE * abs(cents) / largest, 2))
        for index, (key, label, cents) in enumerate(items)
    ]


def height(chart: list[Bar]) -> int:
    return max(len(chart), 1) * ROW
