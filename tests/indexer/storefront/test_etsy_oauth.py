"""The simulator enforces Etsy's real rules: owner-only inventory behind OAuth 2.0 (PKCE S256), expiring and
single-use tokens, revocation, and the per-day rate limit with Etsy's headers."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx

from indexer.storefront import RunningStorefront, running_storefront
from indexer.storefront.etsy_oauth import s256
from tests.indexer.storefront.conftest import SAMPLE
from tests.indexer.storefront.oauth_helpers import (
    REDIRECT,
    VERIFIER,
    authorise,
    owner_headers,
    revoke,
    token_pair,
)

KEY = {"x-api-key": "testkey:testsecret"}


def _inventory_url(sf: RunningStorefront, slug: str) -> str:
    shop_id = sf.etsy_shop_ids[slug]
    page = httpx.get(f"{sf.etsy_api}/shops/{shop_id}/listings/active", headers=KEY, trust_env=False).json()
    return f"{sf.etsy_api}/listings/{page['results'][0]['listing_id']}/inventory"


def _token(sf: RunningStorefront, **form: str) -> httpx.Response:
    return httpx.post(f"{sf.base_url}/etsy/v3/public/oauth/token", data=form, trust_env=False)


def test_inventory_is_owner_only(sample_sf: RunningStorefront) -> None:
    url = _inventory_url(sample_sf, "wildthread-studio")
    ids = sample_sf.etsy_shop_ids
    r = httpx.get(url, headers=KEY, trust_env=False)
    assert r.status_code == 401 and r.json() == {"error": "invalid_token"}
    r = httpx.get(url, headers={**KEY, "authorization": "Bearer 123.nope"}, trust_env=False)
    assert r.status_code == 401
    other = owner_headers(sample_sf, ids["hollowoak-woodworks"])  # shop A's token on shop B's listing
    r = httpx.get(url, headers=other, trust_env=False)
    assert r.status_code == 403 and "owner" in r.json()["error"]
    no_scope = owner_headers(sample_sf, ids["wildthread-studio"], scope="shops_r")
    assert httpx.get(url, headers=no_scope, trust_env=False).status_code == 403
    owner = owner_headers(sample_sf, ids["wildthread-studio"])
    r = httpx.get(url, headers=owner, trust_env=False)
    assert r.status_code == 200 and r.json()["products"] and r.headers["x-limit-per-day"] == "10000"
    # The key is still required, token or not; public reads need the key alone.
    assert httpx.get(url, headers={"authorization": owner["authorization"]}, trust_env=False).status_code == 403
    assert httpx.get(f"{sample_sf.etsy_api}/shops/{ids['wildthread-studio']}", headers=KEY,
                     trust_env=False).status_code == 200


def test_pkce_s256_only_and_codes_single_use(sample_sf: RunningStorefront) -> None:
    sid = sample_sf.etsy_shop_ids["wildthread-studio"]
    q = {"response_type": "code", "client_id": "testkey", "redirect_uri": REDIRECT, "scope": "listings_r",
         "state": "x", "code_challenge": VERIFIER, "code_challenge_method": "plain", "shop_id": sid}
    r = httpx.get(f"{sample_sf.base_url}/etsy/oauth/connect?{urlencode(q)}", trust_env=False)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # Without a shop, the consent page lists the shops to approve as.
    q.update(code_challenge_method="S256", code_challenge=s256(VERIFIER))
    del q["shop_id"]
    page = httpx.get(f"{sample_sf.base_url}/etsy/oauth/connect?{urlencode(q)}", trust_env=False)
    assert page.status_code == 200 and "Allow access" in page.text
    code = authorise(sample_sf, sid)
    form = {"grant_type": "authorization_code", "client_id": "testkey", "redirect_uri": REDIRECT, "code": code}
    bad = _token(sample_sf, **form, code_verifier="w" * 43)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    # The failed try spent the code: the right verifier no longer helps.
    assert _token(sample_sf, **form, code_verifier=VERIFIER).json()["error"] == "invalid_grant"
    code = authorise(sample_sf, sid)
    ok = _token(sample_sf, **{**form, "code": code}, code_verifier=VERIFIER).json()
    assert ok["token_type"] == "Bearer" and ok["expires_in"] == 3600
    assert ok["access_token"].split(".")[0].isdigit()  # starts with the owner's user id
    assert _token(sample_sf, **{**form, "code": code}, code_verifier=VERIFIER).status_code == 400


def test_refresh_is_single_use_and_a_replay_ends_the_grant(sample_sf: RunningStorefront) -> None:
    sid = sample_sf.etsy_shop_ids["wildthread-studio"]
    pair = token_pair(sample_sf, sid)
    fresh = _token(sample_sf, grant_type="refresh_token", client_id="testkey", refresh_token=pair["refresh_token"])
    assert fresh.status_code == 200
    new = fresh.json()
    url = _inventory_url(sample_sf, "wildthread-studio")
    assert httpx.get(url, headers={**KEY, "authorization": f"Bearer {new['access_token']}"},
                     trust_env=False).status_code == 200
    again = _token(sample_sf, grant_type="refresh_token", client_id="testkey", refresh_token=pair["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # A replayed refresh token may be stolen: the whole grant ends, the new pair too.
    assert httpx.get(url, headers={**KEY, "authorization": f"Bearer {new['access_token']}"},
                     trust_env=False).status_code == 401
    assert _token(sample_sf, grant_type="refresh_token", client_id="testkey",
                  refresh_token=new["refresh_token"]).status_code == 400


def test_tokens_expire_and_revoke_ends_them() -> None:
    with running_storefront(SAMPLE, etsy_token_ttl=1) as sf:
        sid = sf.etsy_shop_ids["wildthread-studio"]
        url = _inventory_url(sf, "wildthread-studio")
        pair = token_pair(sf, sid)
        assert pair["expires_in"] == 1
        bearer = {**KEY, "authorization": f"Bearer {pair['access_token']}"}
        assert httpx.get(url, headers=bearer, trust_env=False).status_code == 200
        time.sleep(1.2)
        assert httpx.get(url, headers=bearer, trust_env=False).status_code == 401
        new = _token(sf, grant_type="refresh_token", client_id="testkey", refresh_token=pair["refresh_token"]).json()
        bearer = {**KEY, "authorization": f"Bearer {new['access_token']}"}
        assert httpx.get(url, headers=bearer, trust_env=False).status_code == 200
        assert revoke(sf, sid) >= 1
        assert httpx.get(url, headers=bearer, trust_env=False).status_code == 401
        r = _token(sf, grant_type="refresh_token", client_id="testkey", refresh_token=new["refresh_token"])
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_daily_limit_enforced_with_etsy_headers() -> None:
    with running_storefront(SAMPLE, etsy_limit_per_day=3) as sf:
        url = f"{sf.etsy_api}/shops/{sf.etsy_shop_ids['wildthread-studio']}"
        left = [httpx.get(url, headers=KEY, trust_env=False).headers["x-remaining-today"] for _ in range(3)]
        assert left == ["2", "1", "0"]
        r = httpx.get(url, headers=KEY, trust_env=False)
        assert r.status_code == 429 and "per day" in r.json()["error"]
        assert r.headers["x-limit-per-day"] == "3" and r.headers["x-remaining-today"] == "0"
        assert 0 < int(r.headers["retry-after"]) <= 86400
        # Another key has its own budget.
        assert httpx.get(url, headers={"x-api-key": "other:secret"}, trust_env=False).status_code == 200
