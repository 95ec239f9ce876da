"""mockcarrier.access: what a presented admin token opens."""

from __future__ import annotations

from mockcarrier.access import access_for, token_required
from mockcarrier.config import AccountConfig

OPEN = AccountConfig(userid="OPEN01", password="p")
OWN_A = AccountConfig(userid="OWNA", password="p", admin_token="token-a")
OWN_B = AccountConfig(userid="OWNB", password="p", admin_token="token-b")
ACCOUNTS = [OPEN, OWN_A, OWN_B]


def test_without_any_token_everything_is_open() -> None:
    access = access_for("", "", [OPEN])
    assert access is not None and access.server and access.sees("OPEN01")
    assert not token_required("", [OPEN])


def test_the_server_token_opens_every_account_and_server_wide_calls() -> None:
    access = access_for("root", "root", ACCOUNTS)
    assert access is not None and access.server and access.everything
    assert all(access.sees(cfg.userid) for cfg in ACCOUNTS)


def test_a_wrong_token_opens_nothing_when_a_server_token_is_set() -> None:
    assert access_for("", "root", ACCOUNTS) is None
    assert access_for("nope", "root", ACCOUNTS) is None
    assert token_required("root", [OPEN])


def test_an_account_token_opens_its_account_only() -> None:
    access = access_for("token-a", "root", ACCOUNTS)
    assert access is not None
    assert access.sees("OWNA") and access.sees("owna")
    assert not access.sees("OWNB") and not access.sees("OPEN01")
    assert not access.server


def test_without_server_token_accounts_with_their_own_stay_hidden() -> None:
    anonymous = access_for("", "", ACCOUNTS)
    assert anonymous is not None and anonymous.server
    assert anonymous.sees("OPEN01")
    assert not anonymous.sees("OWNA") and not anonymous.sees("OWNB")
    assert token_required("", ACCOUNTS)


def test_without_server_token_an_account_token_adds_its_account() -> None:
    access = access_for("token-b", "", ACCOUNTS)
    assert access is not None
    assert access.sees("OWNB") and access.sees("OPEN01") and not access.sees("OWNA")


def test_one_account_token_never_opens_another() -> None:
    access = access_for("token-a", "", ACCOUNTS)
    assert access is not None and not access.sees("OWNB")


def test_settings_never_show_account_tokens() -> None:
    from mockcarrier.config import Settings

    shown = Settings(accounts=[OWN_A, OPEN]).to_dict()
    assert [a["admin_token"] for a in shown["accounts"]] == ["***", ""]


def test_without_a_server_token_nothing_is_open_to_another_machine() -> None:
    """Issue 19 #7: open doors for loopback callers only."""
    assert access_for("", "", [OPEN], loopback=False) is None
    own = access_for("token-a", "", ACCOUNTS, loopback=False)
    assert own is not None and not own.server and own.sees("OWNA") and not own.sees("OPEN01")


def test_settings_and_account_views_mask_passwords_and_apikeys() -> None:
    key = AccountConfig(userid="KEY01", password="s3cret-pass", apikey="k" * 28 + "9f0e")
    shown = key.public_dict()
    assert (shown["password"], shown["apikey"]) == ("***", "***9f0e")
    assert key.public_dict(reveal=True)["apikey"] == key.apikey
    assert OWN_A.public_dict(reveal=True)["admin_token"] == "***"
