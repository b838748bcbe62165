"""四级四事 configuration: the tier ladder (owners, time limit, meeting form) and which tier a
case's level goes to first. Both are back-office tables with a documented default
(``routing.defaults``); a tier or level without a row uses the default.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.models import Role
from civicgrid.cases.clock import parse_limit
from civicgrid.cases.models import Level, Tier


class TierSetting(models.Model):
    """One rung of the ladder: who owns it, how long it has, how it meets."""

    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), help_text=_("Lower rungs first."))
    owner_roles = models.JSONField(_("owner roles"), default=list)
    limit = models.CharField(
        _("time limit"),
        max_length=16,
        blank=True,
        help_text=_("For example 3工作日. The street tier has none: it runs the ordinary workflow."),
    )
    meeting_form = models.CharField(_("meeting form"), max_length=50, blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive tier is skipped on the way up and down.")
    )

    class Meta:
        verbose_name = _("tier setting")
        verbose_name_plural = _("tier settings")
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="tier_setting_tier_valid"),
            models.UniqueConstraint(fields=["position"], name="tier_setting_position_once"),
        ]

    def __str__(self) -> str:
        return self.get_tier_display()

    def clean(self) -> None:
        unknown = [r for r in self.owner_roles or [] if r not in Role.values]
        if unknown:
            raise ValidationError({"owner_roles": _("Unknown roles: %(r)s") % {"r": ", ".join(unknown)}})
        if self.tier == Tier.STREET:
            if self.limit or not self.active:
                raise ValidationError(_("The street tier is always active and runs the ordinary clock."))
            return
        if not self.owner_roles:
            raise ValidationError({"owner_roles": _("A grassroots tier needs at least one owner role.")})
        try:
            parse_limit(self.limit)
        except ValueError as exc:
            raise ValidationError({"limit": str(exc)}) from None


class LevelRoute(models.Model):
    """Which tier takes a case of this level first."""

    level = models.CharField(_("level"), max_length=16, choices=Level.choices, unique=True)
    first_tier = models.CharField(_("first tier"), max_length=16, choices=Tier.choices)

    class Meta:
        verbose_name = _("level route")
        verbose_name_plural = _("level routes")
        ordering = ["level"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=Level.values), name="level_route_level_valid"),
            models.CheckConstraint(condition=Q(first_tier__in=Tier.values), name="level_route_tier_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} → {self.get_first_tier_display()}"
