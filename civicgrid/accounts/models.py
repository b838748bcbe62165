"""People, their roles over parts of the region tree or over departments, and grid staffing.

A role is always held *somewhere*: over a node of the region tree (and so its whole subtree) or
over a department. What a person may see is the union of their roles' scopes
(``accounts.scopes``); every selector filters through it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.pii.fields import EncryptedTextField


class User(AbstractUser):
    """A person who logs in. Their roles live in ``RoleAssignment``."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    # The TOTP seed (RFC 6238), encrypted at rest; read it only through ``accounts.totp``.
    # Set but unconfirmed while the person is setting up their app; in use once confirmed.
    totp_secret = EncryptedTextField(_("TOTP secret"), kind="secret", blank=True)
    totp_confirmed_at = models.DateTimeField(_("second factor enabled at"), null=True, blank=True)
    # The time step of the last code accepted: RFC 6238 §5.2 forbids accepting a code twice.
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def has_second_factor(self) -> bool:
        """Whether logging in asks for a code (set up and confirmed, not merely started)."""
        return self.totp_confirmed_at is not None and bool(self.totp_secret)


class Role(models.TextChoices):
    OPERATOR = "operator", _("Command-centre operator")
    SHIFT_LEAD = "shift_lead", _("Shift lead")
    STREET_OPERATOR = "street_operator", _("Street operator")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    ENFORCEMENT_OFFICER = "enforcement_officer", _("Enforcement officer")
    PARTY_SECRETARY = "party_secretary", _("Party secretary")
    DEPUTY = "deputy", _("Deputy")
    # 四级四事 tier owners (civicgrid.routing): residents who serve a building or an estate.
    BUILDING_LEADER = "building_leader", _("Building leader")
    MEDIATOR = "mediator", _("Mediator")
    BUILDING_BRANCH = "building_branch", _("Building party branch secretary")
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee member")
    RESIDENT = "resident", _("Resident")
    AUDITOR = "auditor", _("Auditor")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# Roles that open the command centre (/command/: big screen, indicators, warnings, reviews), each
# seeing the figures of its own scope.
COMMAND_ROLES = frozenset(
    {
        Role.OPERATOR,
        Role.SHIFT_LEAD,
        Role.STREET_OPERATOR,
        Role.COMMUNITY_STAFF,
        Role.GRID_CHIEF,
        Role.DEPARTMENT_HANDLER,
    }
)
# Roles held over a department rather than over a part of the region tree. (Sorted wherever
# they reach a migration: set order changes between runs and would make spurious migrations.)
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER})
# Roles that carry no territory: residents see their own matters, the three administrators
# (三权分立) see what their duty needs and nothing of the district's data by territory.
UNSCOPED_ROLES = frozenset({Role.RESIDENT, Role.AUDITOR, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN})
# Territorial roles (over a grid or community) that reach only the cases routed to a tier they
# own (四级四事, ``civicgrid.routing``), not every case of their territory: building leaders and
# owners' committee members are residents, not the district's staff.
TIER_ROLES = frozenset({Role.BUILDING_LEADER, Role.MEDIATOR, Role.BUILDING_BRANCH, Role.OWNERS_COMMITTEE})


class DepartmentKind(models.TextChoices):
    DISTRICT_DEPARTMENT = "district_department", _("District department")
    STREET_OFFICE = "street_office", _("Street office")
    PROPERTY_COMPANY = "property_company", _("Property management company")
    UTILITY = "utility", _("Public utility")


class Department(models.Model):
    """A unit that receives and handles matters: 区级部门, 街道科室, 物业, 公用事业单位."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=DepartmentKind.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("serves"),
        on_delete=models.PROTECT,
        related_name="departments",
        help_text=_("The district, street or community this unit serves."),
    )
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    # The contact's mobile: personal data, encrypted at rest and masked everywhere until revealed.
    contact_phone = EncryptedTextField(_("contact mobile"), kind="phone", blank=True)
    # Codes of the case classes (小类) this unit owns; read by dispatch rules.
    case_classes = models.JSONField(_("case classes owned"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DepartmentKind.values), name="department_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    """A person holds a role over a region's subtree or over a department, for a period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("over region"), null=True, blank=True, on_delete=models.PROTECT
    )
    department = models.ForeignKey(
        Department, verbose_name=_("over department"), null=True, blank=True, on_delete=models.PROTECT
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        indexes = [models.Index(fields=["user", "valid_until"])]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="role_assignment_role_valid"),
            # Department roles need a department; territorial roles need a region; the
            # unscoped roles need neither.
            models.CheckConstraint(
                condition=(
                    Q(
                        role__in=sorted(DEPARTMENT_ROLES),
                        department__isnull=False,
                        region__isnull=True,
                    )
                    | Q(
                        role__in=sorted(UNSCOPED_ROLES),
                        department__isnull=True,
                        region__isnull=True,
                    )
                    | (
                        ~Q(role__in=sorted(DEPARTMENT_ROLES | UNSCOPED_ROLES))
                        & Q(region__isnull=False, department__isnull=True)
                    )
                ),
                name="role_assignment_scope_fits_role",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="role_assignment_period_valid",
            ),
        ]

    def __str__(self) -> str:
        where = self.region or self.department or ""
        return f"{self.user} · {self.get_role_display()} {where}".strip()


class SecondFactorPolicy(models.Model):
    """A role the security administrator marks: everyone holding it must use a second factor.

    No row (the default) means the role may use one but need not.
    """

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, unique=True)
    required = models.BooleanField(_("second factor required"), default=True)

    class Meta:
        verbose_name = _("second-factor policy")
        verbose_name_plural = _("second-factor policies")
        ordering = ["role"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="second_factor_policy_role_valid"),
        ]

    def __str__(self) -> str:
        return self.get_role_display()


class GridPost(models.TextChoices):
    CHIEF = "chief", _("Grid chief")
    FULL_TIME = "full_time", _("Full-time grid worker")
    PART_TIME = "part_time", _("Part-time grid worker")
    BRANCH_SECRETARY = "branch_secretary", _("Grid party branch secretary")


class GridStaffing(models.Model):
    """Who serves a grid in which post, from when to when; ended rows are kept as history."""

    grid = models.ForeignKey(
        "regions.Region",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="staffing",
        limit_choices_to={"level": "grid"},
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="grid_posts",
    )
    post = models.CharField(_("post"), max_length=32, choices=GridPost.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("grid staffing")
        verbose_name_plural = _("grid staffing")
        ordering = ["grid", "post", "-start"]
        indexes = [models.Index(fields=["grid", "end"]), models.Index(fields=["user", "end"])]
        constraints = [
            models.CheckConstraint(condition=Q(post__in=GridPost.values), name="grid_staffing_post_valid"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="grid_staffing_period_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid.code} · {self.get_post_display()} · {self.user}"


class PasswordHistory(models.Model):
    """Hashes of a user's earlier passwords, so the last few cannot be reused (等保 2.0)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history"
    )
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("earlier password")
        verbose_name_plural = _("earlier passwords")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class LoginAttempt(models.Model):
    """One try to log in; failures in a window lock the account and the address."""

    username = models.CharField(_("username"), max_length=150, db_index=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    success = models.BooleanField(_("success"), default=False)
    # Set when a security admin unlocks: cleared failures no longer count.
    cleared = models.BooleanField(_("cleared"), default=False)

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")
        indexes = [models.Index(fields=["ip", "at"])]

    def __str__(self) -> str:
        return f"{self.username} {self.ip} {'ok' if self.success else 'failed'}"


class ApiToken(models.Model):
    """A bearer token for an integration, acting as its user within its own API scopes.

    Only a SHA-256 of the secret is stored (the secret is 256 random bits, so a slow hash adds
    nothing); the plaintext is shown once, at creation. ``prefix`` finds the row quickly and is
    safe to show in lists.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("API scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
