"""``civicgrid roles grant|revoke|list`` — how an operator names the first security admin."""

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts.models import Department, Role, RoleAssignment, User
from civicgrid.accounts.services import role_grant, role_revoke
from civicgrid.errors import DomainError
from civicgrid.regions.models import Region


class Command(BaseCommand):
    help = "Grant, revoke and list roles (the back office does the same for security admins)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        grant = sub.add_parser("grant")
        grant.add_argument("username")
        grant.add_argument("role", choices=Role.values)
        grant.add_argument("--region", help="region code the role is held over")
        grant.add_argument("--department", help="department code the role is held over")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("username")
        revoke.add_argument("role", choices=Role.values)
        listing = sub.add_parser("list")
        listing.add_argument("username", nargs="?")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _user(self, username):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no such user: {username}")
        return user

    def _grant(self, username, role, region, department, **options):
        region_obj = Region.objects.filter(code=region).first() if region else None
        department_obj = Department.objects.filter(code=department).first() if department else None
        if region and region_obj is None:
            raise CommandError(f"no such region: {region}")
        if department and department_obj is None:
            raise CommandError(f"no such department: {department}")
        role_grant(user=self._user(username), role=role, region=region_obj, department=department_obj)
        if role in (Role.SECURITY_ADMIN, Role.AUDITOR):
            # Their work is in the back office, so they need to be able to enter it.
            User.objects.filter(username=username).update(is_staff=True)
        self.stdout.write(self.style.SUCCESS(f"{username} is now {role}"))

    def _revoke(self, username, role, **options):
        current = RoleAssignment.objects.filter(
            user=self._user(username), role=role, valid_until__isnull=True
        )
        if not current:
            raise CommandError(f"{username} holds no open {role} role")
        for assignment in current:
            role_revoke(assignment=assignment)
        self.stdout.write(self.style.SUCCESS(f"{username} is no longer {role}"))

    def _list(self, username, **options):
        rows = RoleAssignment.objects.select_related("user", "region", "department").order_by(
            "user__username"
        )
        if username:
            rows = rows.filter(user__username=username)
        for r in rows:
            where = r.region.code if r.region else r.department.code if r.department else "-"
            until = r.valid_until or "open"
            self.stdout.write(f"{r.user.username:<26} {r.role:<20} {where:<16} {r.valid_from} → {until}")
