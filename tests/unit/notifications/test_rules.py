"""Who is told, the dedupe keys, channel plans, retries, cursors and webhook URLs."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.notifications.domain import rules
from services.notifications.domain.models import Channels, Preferences, Recipient
from services.notifications.domain.paging import decode_cursor, encode_cursor
from services.notifications.domain.webhooks import (
    AllowedTargets, is_private_address, refused_addresses, validate_webhook_url,
)

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def recipient(email: str | None = "a@example.org") -> Recipient:
    return Recipient(actor_id="a1", tenant="koeln", name="A", email=email, owners=["u1"], version=1)


def test_match_key_is_per_recipient_pair_and_round():
    key = rules.match_key(offer_id="o1", need_id="n1", actor_id="a1", round_=0)
    assert key == "match.found:o1:n1:a1:0"
    assert key != rules.match_key(offer_id="o1", need_id="n1", actor_id="a2", round_=0)
    assert key != rules.match_key(offer_id="o1", need_id="n1", actor_id="a1", round_=1)


def test_match_round_counts_withdrawals_before_the_match():
    withdrawals = [T0 + timedelta(minutes=10), T0 + timedelta(minutes=30)]
    assert rules.match_round(T0, withdrawals) == 0                          # the first find
    assert rules.match_round(T0 + timedelta(minutes=5), withdrawals) == 0   # found again, same round
    assert rules.match_round(T0 + timedelta(minutes=20), withdrawals) == 1  # after a withdrawal
    assert rules.match_round(T0 + timedelta(hours=1), withdrawals) == 2
    # A replayed old event keeps its old round, whatever happened since.
    assert rules.match_round(T0, withdrawals + [T0 + timedelta(hours=2)]) == 0


def test_other_keys():
    assert rules.contact_key(status="accepted", contact_id="c1", actor_id="a1") == \
        "contact.accepted:c1:a1"
    assert rules.delivery_key(notification_id="n1", channel="email") == "email:n1"
    assert rules.digest_key(actor_id="a1", day=date(2026, 5, 4)) == "digest:a1:2026-05-04"
    assert rules.pair_key("o1", "n1") == "o1:n1"


def test_match_tells_both_sides_once_each():
    assert rules.match_recipients(offer_actor_id="a", need_actor_id="b") == [("b", "need"),
                                                                              ("a", "offer")]
    assert rules.match_recipients(offer_actor_id="a", need_actor_id="a") == [("a", "need")]


def test_contact_recipients():
    args = {"requester_actor_id": "req", "recipient_actor_id": "rec"}
    assert rules.contact_recipients(status="requested", **args) == ["rec"]
    assert rules.contact_recipients(status="accepted", **args) == ["req", "rec"]
    assert rules.contact_recipients(status="declined", **args) == ["req"]
    with pytest.raises(ValueError):
        rules.contact_recipients(status="ignored", **args)


def test_default_plan_is_inbox_and_instant_mail():
    plan = rules.plan_channels(Preferences.default("a1"), recipient())
    assert plan == rules.ChannelPlan(inbox=True, email="instant", webhook=False)


def test_daily_frequency_collects_mails_but_keeps_webhooks_instant():
    preferences = Preferences(actor_id="a1", frequency="daily",
                              channels=Channels(email=True, inbox=False, webhook=True),
                              webhook_url="https://example.org/hook", webhook_secret="s")
    assert rules.plan_channels(preferences, recipient()) == rules.ChannelPlan(
        inbox=False, email="digest", webhook=True)


def test_off_pauses_pushes_but_not_the_inbox():
    preferences = Preferences(actor_id="a1", frequency="off",
                              channels=Channels(webhook=True), webhook_url="https://x.org")
    assert rules.plan_channels(preferences, recipient()) == rules.ChannelPlan(
        inbox=True, email=None, webhook=False)


def test_no_mail_without_address_or_with_email_off_and_no_webhook_without_url():
    assert rules.plan_channels(Preferences.default("a1"), recipient(email=None)).email is None
    off = Preferences(actor_id="a1", channels=Channels(email=False, webhook=True))
    assert rules.plan_channels(off, recipient()) == rules.ChannelPlan(True, None, False)


def test_unknown_recipient_still_gets_the_mail_planned():
    # The actor event may still be on its way; the retry task waits for the address.
    assert rules.plan_channels(Preferences.default("a1"), None).email == "instant"


def test_retry_delay_doubles_up_to_the_cap():
    delays = [rules.retry_delay_s(rounds_done=n, initial_s=60, max_s=600) for n in range(1, 7)]
    assert delays == [60, 120, 240, 480, 600, 600]


def test_cursor_round_trip_and_garbage():
    cursor = encode_cursor(T0, "n1")
    assert decode_cursor(cursor) == (T0, "n1")
    for garbage in ["", "abc", "%%%", encode_cursor(T0, "n1")[:-4]]:
        with pytest.raises(ValueError):
            decode_cursor(garbage)


@pytest.mark.parametrize("url", ["https://example.org/hook", "http://127.0.0.1:8080/x?y=1"])
def test_valid_webhook_urls(url):
    assert validate_webhook_url(f"  {url} ") == url


@pytest.mark.parametrize("url", ["ftp://example.org", "example.org/hook", "https://",
                                 "https://u:p@example.org", "javascript:alert(1)",
                                 "https://example.org:99999/", "https://x.org/" + "a" * 2000])
def test_invalid_webhook_urls(url):
    with pytest.raises(ValueError):
        validate_webhook_url(url)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1", "::1", "::",
    "fe80::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "2002:7f00:1::1", "2001:db8::1"])
def test_internal_addresses(address):
    assert is_private_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111",
                                     "::ffff:93.184.216.34"])
def test_public_addresses(address):
    assert not is_private_address(address)


def test_the_allow_list_lets_named_internal_targets_through_and_nothing_else():
    allowed = AllowedTargets("127.0.0.2, fd00::/8, crm.verein.lan")
    assert refused_addresses("x", ["127.0.0.2"], allowed) == []
    assert refused_addresses("x", ["fd00::5"], allowed) == []
    assert refused_addresses("crm.verein.lan", ["10.9.9.9"], allowed) == []
    assert refused_addresses("x", ["127.0.0.2", "127.0.0.1"], allowed) == ["127.0.0.1"]
    assert refused_addresses("x", ["93.184.216.34", "169.254.169.254"],
                             AllowedTargets()) == ["169.254.169.254"]
    with pytest.raises(ValueError):
        AllowedTargets("10.0.0.0/99")
