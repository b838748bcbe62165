"""``civicgrid tokens create|list|revoke`` — API tokens for integrations (shown once)."""

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.tokens import API_SCOPES, api_token_create, api_token_revoke
from civicgrid.errors import DomainError


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; its secret is printed once.")
        create.add_argument("--user", required=True, help="The user the token acts as.")
        create.add_argument("--name", required=True)
        create.add_argument("--scope", action="append", required=True, choices=sorted(API_SCOPES))
        create.add_argument("--days", type=int, default=90)
        sub.add_parser("list", help="List tokens (never their secrets).")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _create(self, user, name, scope, days, **options):
        owner = User.objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"no such user: {user}")
        token, plaintext = api_token_create(user=owner, name=name, scopes=scope, days=days)
        self.stdout.write(f"token {token.prefix} for {owner.username}, scopes {', '.join(token.scopes)}, "
                          f"expires {token.expires_at:%Y-%m-%d}")  # fmt: skip
        self.stdout.write("Copy it now; it is not stored and cannot be shown again:")
        self.stdout.write(plaintext)

    def _list(self, **options):
        for t in ApiToken.objects.select_related("user"):
            state = "revoked" if t.revoked_at else f"expires {t.expires_at:%Y-%m-%d}"
            self.stdout.write(
                f"{t.prefix}  {t.user.username:<20} {t.name:<24} {','.join(t.scopes):<30} {state}"
            )

    def _revoke(self, prefix, **options):
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"no token with prefix {prefix}")
        api_token_revoke(token=token)
        self.stdout.write(self.style.SUCCESS(f"revoked {prefix}"))
