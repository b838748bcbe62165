"""``civicgrid warnings_backtest`` — the spike warning against the demo year's planted bursts.

Runs the detector (``insight.warnings``) over every day of the loaded demo year without writing
anything and prints the caught and missed plants and the false warnings: per 1,000 grid × 大类 ×
days checked, and as a share of all warnings. The rule options override the settings' values,
for tuning (docs/warnings.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.demo import spikes, xuanwu
from civicgrid.insight import warnings


class Command(BaseCommand):
    help = "Backtest the spike warning on the demo year's planted bursts."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=xuanwu.DEFAULT_SEED, help="the demo's seed")
        parser.add_argument("--baseline-days", type=int, help="default: the settings' value")
        parser.add_argument("--min-count", type=int, help="default: the settings' value")
        parser.add_argument("--p-value", type=float, help="default: the settings' value")
        parser.add_argument("--floor", type=float, default=warnings.EXPECTED_FLOOR)
        parser.add_argument(
            "--list", dest="show_false", action="store_true", help="list the false warnings too"
        )

    def handle(self, *args, seed, baseline_days, min_count, p_value, floor, show_false, **options):
        current = warnings.Rules.current()
        rules = warnings.Rules(
            baseline_days=baseline_days or current.baseline_days,
            min_count=current.min_count if min_count is None else min_count,
            p_value=p_value or current.p_value,
            floor=floor,
        )
        try:
            result = spikes.backtest(seed=seed, rules=rules)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        out = self.stdout.write
        out(
            f"rules: baseline {rules.baseline_days} days, at least {rules.min_count} cases, "
            f"p ≤ {rules.p_value:g}, expected floor {rules.floor:g}"
        )
        out(f"days {result.first} … {result.last}: {result.cells:,} grid × 大类 × days checked")
        out(f"planted bursts: {result.plants}; caught {result.caught}; missed {len(result.missed)}")
        for p in result.missed:
            out(f"  missed: {p.day} grid {p.grid} {p.case_class} +{p.extra}")
        out(
            f"warnings: {result.warnings}; false {result.false} = {result.false_per_1000:.4f} per 1,000 "
            f"grid × 大类 × days; {100 * result.false_share:.1f}% of warnings"
        )
        if show_false:
            for s in result.false_list:
                out(
                    f"  false: {s.day} grid {s.grid_id} 大类 {s.major_id}: {s.observed} vs {s.expected:.2f} p={s.p:.2g}"
                )
