"""The partner's story, played with a Python client generated from the
committed document alone by openapi-python-client (contract/check.sh):
log in, refer a person, read the receipt back, read the feed, and get a
typed problem for a receipt that is not ours."""

import datetime
import os
import sys
import uuid

from parcours_client import AuthenticatedClient, Client
from parcours_client.api.auth import post_auth_token
from parcours_client.api.partners import get_feed
from parcours_client.api.referrals import get_referrals_by_id, post_referrals
from parcours_client.models import (
    CreateReferral,
    Domain,
    FeedPage,
    ProblemDetails,
    ProblemDetailsType,
    ReferralReceipt,
    ReferralStatus,
    TokenRequest,
    TokenResponse,
)


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set")
    return value


def main() -> None:
    base_url = required("PARCOURS_URL")
    login = post_auth_token.sync(
        client=Client(base_url=base_url),
        body=TokenRequest(
            grant_type="client_credentials",
            client_id=required("PARCOURS_CLIENT_ID"),
            client_secret=required("PARCOURS_CLIENT_SECRET"),
        ),
    )
    if not isinstance(login, TokenResponse):
        sys.exit(f"login refused: {login}")
    api = AuthenticatedClient(base_url=base_url, token=login.access_token)

    receipt = post_referrals.sync(
        client=api,
        idempotency_key=str(uuid.uuid4()),
        body=CreateReferral(
            family_name="Martin",
            given_names="Léo",
            birth_date=datetime.date(2008, 3, 2),
            commune_insee="05061",
            domain=Domain.CHILDHOOD,
            reason="Signalement : rupture de prise en charge",
            partner_number="7654321",
        ),
    )
    if not isinstance(receipt, ReferralReceipt):
        sys.exit(f"referral refused: {receipt}")
    if receipt.status != ReferralStatus.PENDING:
        sys.exit(f"a new referral is pending, not {receipt.status}")

    again = get_referrals_by_id.sync(receipt.id, client=api)
    if not isinstance(again, ReferralReceipt) or again.id != receipt.id:
        sys.exit(f"the receipt reads back: {again}")

    feed = get_feed.sync(client=api, limit=10)
    if not isinstance(feed, FeedPage):
        sys.exit(f"feed refused: {feed}")

    missing = get_referrals_by_id.sync(uuid.UUID(int=0), client=api)
    if not (
        isinstance(missing, ProblemDetails)
        and missing.type_ == ProblemDetailsType.URNPARCOURSPROBLEMNOT_FOUND
    ):
        sys.exit(f"an unknown receipt is a typed problem: {missing}")
    print(f"python client: referred {receipt.id}; feed holds {len(feed.items)} event(s)")


if __name__ == "__main__":
    main()
