"""API tokens: shown once, hashed at rest, scoped, expiring, revocable."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from civicgrid.accounts.models import ApiToken, User
from civicgrid.accounts.tokens import api_token_create, api_token_revoke
from civicgrid.errors import DomainError
from civicgrid.regions.models import BoundaryGeneration
from tests.regions.helpers import dumps, grid_collection

pytestmark = pytest.mark.django_db
GRID_A = "32010200200101"
GRID_B = "32010201000101"


def _bearer(plaintext):
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def _upload(client, plaintext, name="via-token"):
    data = {"name": name, "file": SimpleUploadedFile("g.geojson", dumps(grid_collection()))}
    return client.post("/api/v1/geo/generations", data, **_bearer(plaintext))


def test_the_secret_is_not_stored(demo_staff):
    token, plaintext = api_token_create(
        user=User.objects.get(username="admin"), name="gis", scopes=["generations:write"]
    )
    secret = plaintext.split("_", 2)[2]
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_a_token_acts_as_its_user_within_its_api_scopes(client, demo_staff):
    _, plaintext = api_token_create(
        user=User.objects.get(username="admin"), name="gis", scopes=["generations:write"]
    )
    assert _upload(client, plaintext).status_code == 200
    # The same token may not read people: that scope was not granted.
    refused = client.get(f"/api/v1/regions/{GRID_A}/people", **_bearer(plaintext))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "token_scope"


def test_a_people_token_sees_only_its_users_grids(client, demo_staff):
    worker = User.objects.get(username=f"gw-{GRID_A}")
    _, plaintext = api_token_create(user=worker, name="app", scopes=["people:read"])
    assert client.get(f"/api/v1/regions/{GRID_A}/people", **_bearer(plaintext)).status_code == 200
    assert client.get(f"/api/v1/regions/{GRID_B}/people", **_bearer(plaintext)).status_code == 404
    # A non-staff user's token cannot import, whatever its scopes.
    _, writer = api_token_create(user=worker, name="w", scopes=["generations:write"])
    assert _upload(client, writer).status_code == 403


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (lambda t, p: p[:-2] + "xx", "bad_token"),
        (lambda t, p: "cg_nothing_here", "bad_token"),
        (lambda t, p: api_token_revoke(token=t) and p, "token_revoked"),
        (
            lambda t, p: (
                ApiToken.objects.filter(pk=t.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
                and p
            ),
            "token_expired",
        ),
    ],
)
def test_bad_expired_and_revoked_tokens_are_refused_and_change_nothing(client, demo_staff, spoil, code):
    token, plaintext = api_token_create(
        user=User.objects.get(username="admin"), name="gis", scopes=["generations:write"]
    )
    response = _upload(client, spoil(token, plaintext))
    assert response.status_code == 401 and response.json()["error"]["code"] == code
    assert not BoundaryGeneration.objects.filter(name="via-token").exists()


def test_scopes_and_lifetimes_are_checked(demo_staff):
    admin = User.objects.get(username="admin")
    with pytest.raises(DomainError):
        api_token_create(user=admin, name="x", scopes=["everything"])
    with pytest.raises(DomainError):
        api_token_create(user=admin, name="x", scopes=["people:read"], days=5000)


def test_the_cli_shows_the_token_once_and_revokes_it(demo_staff):
    out = StringIO()
    call_command(
        "tokens", "create", "--user", "admin", "--name", "gis", "--scope", "generations:write", stdout=out
    )
    plaintext = out.getvalue().strip().splitlines()[-1]
    assert plaintext.startswith("cg_")
    listing = StringIO()
    call_command("tokens", "list", stdout=listing)
    assert plaintext.split("_", 2)[2] not in listing.getvalue()
    call_command("tokens", "revoke", plaintext.split("_")[1], stdout=StringIO())
    assert ApiToken.objects.get().revoked_at is not None
