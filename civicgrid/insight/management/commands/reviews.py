"""``civicgrid reviews …`` — the reviews on demand, as the background worker makes them.

``civicgrid reviews monthly --month 2026-10`` makes (or, with ``--replace``, remakes) a month's
review; ``quarterly --quarter 2026-Q3`` a quarter's pack; ``due`` whatever the periodic run would
make today; ``weekly`` sends this week's reminders now (once per week, whatever the weekday).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.errors import DomainError
from civicgrid.insight import reviews, reviews_weekly
from civicgrid.insight.models import ReviewKind


class Command(BaseCommand):
    help = "Reviews: monthly --month YYYY-MM | quarterly --quarter YYYY-Qn | due | weekly."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        monthly = sub.add_parser("monthly", help="A month's review (月点评).")
        monthly.add_argument("--month", required=True, help="YYYY-MM")
        monthly.add_argument("--replace", action="store_true", help="Make it again if archived.")
        quarterly = sub.add_parser("quarterly", help="A quarter's scheduling pack (季调度).")
        quarterly.add_argument("--quarter", required=True, help="YYYY-Qn")
        quarterly.add_argument("--replace", action="store_true", help="Make it again if archived.")
        sub.add_parser("due", help="Last month's and last quarter's, if not made yet.")
        sub.add_parser("weekly", help="Send this week's reminders (周提醒) now, if not sent yet.")

    def handle(self, *args, action, **options):
        try:
            if action == "weekly":
                review = reviews_weekly.weekly_remind(force=True)
                if review is None:
                    self.stdout.write("this week's reminders were sent already")
                else:
                    p = review.payload
                    self.stdout.write(
                        f"reminded {p['people']} people ({p['overdue']} overdue, {p['near_due']} near-due items)"
                    )
                return
            if action == "due":
                made = reviews.reviews_due()
                self.stdout.write("\n".join(f"made {r.title}" for r in made) or "nothing due")
                return
            kind = ReviewKind.MONTHLY if action == "monthly" else ReviewKind.QUARTERLY
            period = reviews.period_parse(kind, options.get("month") or options.get("quarter"))
            review, made = reviews.review_generate(period=period, replace=options["replace"])
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(f"{'made' if made else 'archived already'}: {review.title} (id {review.pk})")
