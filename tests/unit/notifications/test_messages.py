"""Notification texts and e-mails in German and English."""
from __future__ import annotations

from datetime import date, datetime, timezone

from services.notifications.domain import messages
from services.notifications.domain.models import Localized, Notification

REASONS = [
    {"factor": "distance", "contribution": 0.18,
     "label": {"de": "Nur 3 km entfernt", "en": "Only 3 km away"}},
    {"factor": "categories", "contribution": 0.3,
     "label": {"de": "Gleiches Handlungsfeld", "en": "Same field of engagement"}},
    {"factor": "skills", "contribution": 0.1,
     "label": {"de": "Führerschein vorhanden", "en": "Has a driving licence"}},
    {"factor": "language", "contribution": 0.01,
     "label": {"de": "Sprache Deutsch", "en": "Speaks German"}},
]
AT = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)


def match_notification(role: str = "need", score: float = 0.87,
                       offer_title: str = "Fahrdienst", need_title: str = "Fahrer gesucht"):
    title, body = messages.match_texts(role=role, offer_title=offer_title, need_title=need_title,
                                       score=score)
    return Notification(
        id="n1", type="match.found", actor_id="a1", tenant="koeln", title=title, body=body,
        data={"reasons": REASONS, "score": score, "link": "https://engage.example/#/needs/need-1"},
        created_at=AT, event_at=AT, dedupe_key="k1")


def test_percent_follows_the_language():
    assert messages.percent(0.874, "de") == "87 %"
    assert messages.percent(0.874, "en") == "87%"
    assert messages.percent(1.2, "en") == "100%" and messages.percent(-1, "de") == "0 %"


def test_match_texts_say_what_matched_from_each_side():
    title, body = messages.match_texts(role="need", offer_title="Fahrdienst",
                                       need_title="Fahrer gesucht", score=0.5)
    assert title.de == "Neuer Treffer für Ihren Bedarf „Fahrer gesucht“"
    assert body.de == "Das Angebot „Fahrdienst“ passt zu 50 % zu Ihrem Bedarf „Fahrer gesucht“."
    assert body.en == "The offer “Fahrdienst” matches your need “Fahrer gesucht” by 50%."
    title, body = messages.match_texts(role="offer", offer_title="Fahrdienst",
                                       need_title="Fahrer gesucht", score=0.5)
    assert title.en == "New match for your offer “Fahrdienst”"
    assert "Der Bedarf „Fahrer gesucht“" in body.de


def test_german_match_mail_has_top_reasons_link_and_unsubscribe_in_both_parts():
    mail = messages.render_notification_mail(
        match_notification(), locale="de", recipient_name="Tafel Köln",
        unsubscribe_url="https://engage.example/api/v1/unsubscribe?token=t")
    assert mail.subject == "Neuer Treffer für Ihren Bedarf „Fahrer gesucht“"
    assert mail.text.startswith("Hallo Tafel Köln,")
    assert "87 %" in mail.text
    reasons = mail.text.split("Warum dieser Vorschlag:")[1]
    assert reasons.index("Gleiches Handlungsfeld") < reasons.index("Nur 3 km entfernt") \
        < reasons.index("Führerschein vorhanden")
    assert "Sprache Deutsch" not in mail.text  # three reasons at most
    assert "Ansehen: https://engage.example/#/needs/need-1" in mail.text
    assert "https://engage.example/api/v1/unsubscribe?token=t" in mail.text
    assert '<html lang="de">' in mail.html and "<li>Gleiches Handlungsfeld</li>" in mail.html
    assert 'href="https://engage.example/#/needs/need-1"' in mail.html
    assert 'href="https://engage.example/api/v1/unsubscribe?token=t"' in mail.html


def test_english_match_mail():
    mail = messages.render_notification_mail(
        match_notification(role="offer", score=0.64), locale="en", recipient_name=None,
        unsubscribe_url="https://u")
    assert mail.subject == "New match for your offer “Fahrdienst”"
    assert mail.text.startswith("Hello,")
    assert "64%" in mail.text and "Why this suggestion:" in mail.text
    assert "- Same field of engagement" in mail.text and "View: https://" in mail.text
    assert "Stop receiving e-mails: https://u" in mail.text


def test_user_text_is_escaped_in_html_and_kept_on_one_subject_line():
    notification = match_notification(need_title="<script>alert(1)</script>\r\nBcc: x@evil")
    mail = messages.render_notification_mail(notification, locale="de", recipient_name="<b>",
                                             unsubscribe_url="https://u")
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<b>" not in mail.html
    assert "\n" not in mail.subject and "\r" not in mail.subject
    long = match_notification(need_title="x" * 500)
    assert len(messages.render_notification_mail(long, locale="en", recipient_name=None,
                                                 unsubscribe_url="u").subject) == 200


def test_digest_lists_every_notification_with_score_and_link():
    notifications = [match_notification(offer_title="Hausaufgabenhilfe", score=0.91),
                     match_notification(offer_title="Fußballtraining", score=0.64)]
    german = messages.render_digest_mail(notifications, locale="de", recipient_name="Jugendtreff",
                                         unsubscribe_url="https://u", day=date(2026, 5, 4))
    assert german.subject == "Ihre tägliche Zusammenfassung: 2 neue Benachrichtigungen"
    assert "Zusammenfassung vom 04.05.2026" in german.text
    assert "„Hausaufgabenhilfe“ passt zu 91 %" in german.text
    assert "„Fußballtraining“ passt zu 64 %" in german.text
    assert german.text.count("https://engage.example/#/needs/need-1") == 2
    assert german.html.count("<li>") == 2
    english = messages.render_digest_mail(notifications[:1], locale="en", recipient_name=None,
                                          unsubscribe_url="https://u", day=date(2026, 5, 4))
    assert english.subject == "Your daily summary: 1 new notification"
    assert "summary of 2026-05-04" in english.text and "by 91%" in english.text


def test_contact_texts():
    title, body = messages.contact_texts(status="requested", requester_name="Anna",
                                         recipient_name="Tafel", message="Samstags?")
    assert title.de == "Neue Kontaktanfrage von Anna" and "„Samstags?“" in body.de
    assert title.en == "New contact request from Anna" and "“Samstags?”" in body.en
    title, body = messages.contact_texts(status="accepted", requester_name=None,
                                         recipient_name="Tafel", message="")
    assert title.en == "Contact request accepted" and "Tafel accepted" in body.en
    title, body = messages.contact_texts(status="declined", requester_name="Anna",
                                         recipient_name=None, message="")
    assert body.de == "Ihr Gegenüber hat Ihre Kontaktanfrage leider abgelehnt."


def test_localized_falls_back_to_german():
    text = Localized(de="Hallo", en="Hello")
    assert text.get("en") == "Hello" and text.get("fr") == "Hallo"


def test_unsubscribe_pages():
    assert messages.unsubscribe_page("en", done=True)[0] == "Unsubscribed"
    assert messages.unsubscribe_page("de", done=False)[0] == "Ungültiger Link"
    page = messages.simple_page("de", "Abgemeldet", "<x>")
    assert "<h1>Abgemeldet</h1>" in page and "&lt;x&gt;" in page
