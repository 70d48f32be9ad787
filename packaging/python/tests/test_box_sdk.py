"""Box's official Python SDK (boxsdk 10.x, `box_sdk_gen`), unmodified, against the emulator
through nothing but the plugin's fixtures: client credentials, JWT from the exported config,
OAuth 2.0 through the consent page, an expired token refreshed, a 503 retried, reset between
tests, a custom world. Runs as is and under `pytest -n 2`."""

import urllib.parse

import pytest
from box_sdk_gen import (
    BaseUrls, BoxCCGAuth, BoxClient, BoxJWTAuth, BoxOAuth, CCGConfig, GetAuthorizeUrlOptions,
    JWTConfig, OAuthConfig,
)


def urls(emulator):
    return BaseUrls(base_url=emulator.base_url, oauth_2_url=emulator.oauth2_url)


def ccg(emulator):
    return BoxCCGAuth(CCGConfig(client_id=emulator.client_id, client_secret=emulator.client_secret,
                                enterprise_id=emulator.enterprise_id))


def oauth_client(emulator):
    """An OAuth 2.0 client, its code approved on the consent page as the admin."""
    auth = BoxOAuth(OAuthConfig(client_id=emulator.client_id, client_secret=emulator.client_secret))
    url = auth.get_authorize_url(options=GetAuthorizeUrlOptions(
        redirect_uri="http://localhost:3000/callback", state="st-1"))
    redirect = emulator.approve(url)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)
    assert query["state"] == ["st-1"]
    client = BoxClient(auth=auth).with_custom_base_urls(urls(emulator))
    auth.get_tokens_authorization_code_grant(query["code"][0], network_session=client.network_session)
    return auth, client


def grants(emulator):
    return [(e["grant_type"], e["status"]) for e in emulator.requests() if e["path"] == "/oauth2/token"]


def test_client_credentials(box_emulator):
    client = BoxClient(auth=ccg(box_emulator)).with_custom_base_urls(urls(box_emulator))
    assert client.users.get_user_me().login.startswith("AutomationUser_")
    as_admin = BoxClient(auth=ccg(box_emulator).with_user_subject(box_emulator.admin_user_id))
    assert as_admin.with_custom_base_urls(urls(box_emulator)).users.get_user_me().id == box_emulator.admin_user_id
    assert grants(box_emulator) == [("client_credentials", 200)] * 2


def test_jwt_from_the_exported_config(box_emulator):
    auth = BoxJWTAuth(config=JWTConfig.from_config_file(box_emulator.jwt_config_path))
    client = BoxClient(auth=auth).with_custom_base_urls(urls(box_emulator))
    assert client.users.get_user_me().login.startswith("AutomationUser_")
    assert grants(box_emulator) == [("urn:ietf:params:oauth:grant-type:jwt-bearer", 200)]


def test_oauth_through_the_consent_page(box_emulator):
    _, client = oauth_client(box_emulator)
    assert client.users.get_user_me().id == box_emulator.admin_user_id


def test_an_expired_token_is_refreshed_by_the_sdk(box_emulator):
    auth, client = oauth_client(box_emulator)
    before = auth.retrieve_token(network_session=client.network_session)
    box_emulator.advance_clock(3601)
    assert client.users.get_user_me().id == box_emulator.admin_user_id
    after = auth.retrieve_token(network_session=client.network_session)
    assert after.access_token != before.access_token
    assert ("refresh_token", 200) in grants(box_emulator)
    me = [e["status"] for e in box_emulator.requests() if e["path"] == "/2.0/users/me"]
    assert me == [401, 200], "the expired token was refused, then the refreshed one served"


def test_a_scripted_503_is_retried_by_the_sdk(box_emulator):
    client = BoxClient(auth=ccg(box_emulator)).with_custom_base_urls(urls(box_emulator))
    box_emulator.script_faults([503])
    assert client.users.get_user_me().login.startswith("AutomationUser_")
    statuses = [e["status"] for e in box_emulator.requests()]
    assert statuses[0] == 503 and statuses[-1] == 200, statuses
    assert box_emulator.stats()["faults_injected"] == 1


def test_a_revoked_user_must_sign_in_again(box_emulator):
    auth, client = oauth_client(box_emulator)
    box_emulator.revoke_user_tokens(box_emulator.admin_user_id)
    with pytest.raises(Exception):
        client.users.get_user_me()
    assert ("refresh_token", 400) in grants(box_emulator)


@pytest.mark.parametrize("dirty", [True, False])
def test_each_test_starts_from_a_reset_emulator(box_emulator, dirty):
    # Whichever runs first (and on whichever worker), it finds a clean emulator and dirties it.
    assert box_emulator.requests() == []
    assert box_emulator.stats()["faults_scripted"] == 0
    assert box_emulator.stats()["store"]["access_tokens"] == 0
    assert abs(box_emulator._control("GET", "clock")["offset_ms"]) == 0
    BoxClient(auth=ccg(box_emulator)).with_custom_base_urls(urls(box_emulator)).users.get_user_me()
    box_emulator.advance_clock(10_000)
    box_emulator.script_faults([500, 500, 500])


def test_an_added_user_signs_in(box_emulator):
    user = box_emulator.add_user(login=f"new-{id(box_emulator)}@example.com")
    auth = BoxOAuth(OAuthConfig(client_id=box_emulator.client_id, client_secret=box_emulator.client_secret))
    url = auth.get_authorize_url(options=GetAuthorizeUrlOptions(redirect_uri="http://localhost:3000/callback"))
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(box_emulator.approve(url, login=user["login"])).query)["code"][0]
    client = BoxClient(auth=auth).with_custom_base_urls(urls(box_emulator))
    auth.get_tokens_authorization_code_grant(code, network_session=client.network_session)
    assert client.users.get_user_me().id == user["id"]


WORLD = """
[[enterprises]]
id = "900000001"
name = "Custom"

[[users]]
id = "910000001"
login = "owner@custom.example"
name = "Owner"
role = "admin"
enterprise = "900000001"

[[apps]]
name = "Custom app"
client_id = "customclientid000000000000000001"
client_secret = "customsecret"
enterprise = "900000001"
grants = ["client_credentials", "jwt_bearer"]
keys = [{ id = "customk1", generate = true }]
"""


def test_a_custom_world_from_the_factory(box_emulator_factory):
    emulator = box_emulator_factory(config_toml=WORLD)
    assert emulator.client_id == "customclientid000000000000000001"
    assert emulator.enterprise_id == "900000001"
    client = BoxClient(auth=ccg(emulator)).with_custom_base_urls(urls(emulator))
    assert client.users.get_user_me().login.startswith("AutomationUser_")
