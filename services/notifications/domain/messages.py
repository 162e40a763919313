"""The words: notification titles and bodies in German and English, and the e-mails (text and
HTML parts) in the recipient's language. Everything user-provided is escaped in HTML and kept
out of header line breaks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from services.notifications.domain.models import Localized, Notification

TOP_REASONS = 3
MAX_SUBJECT = 200


def percent(score: float, locale: str) -> str:
    value = round(max(0.0, min(1.0, score)) * 100)
    return f"{value}%" if locale == "en" else f"{value} %"


def item_link(base_url: str, kind: str, item_id: str) -> str:
    return f"{base_url.rstrip('/')}/#/{kind}s/{item_id}"


def top_reasons(reasons: list[dict[str, Any]], limit: int = TOP_REASONS) -> list[dict[str, Any]]:
    return sorted(reasons, key=lambda reason: reason.get("contribution", 0.0), reverse=True)[:limit]


# ---- notification texts -------------------------------------------------------------------------

def match_texts(*, role: str, offer_title: str, need_title: str,
                score: float) -> tuple[Localized, Localized]:
    """Title and body for the actor on `role`'s side of a match."""
    if role == "need":
        title = Localized(de=f"Neuer Treffer für Ihren Bedarf „{need_title}“",
                          en=f"New match for your need “{need_title}”")
        body = Localized(
            de=f"Das Angebot „{offer_title}“ passt zu {percent(score, 'de')} zu Ihrem Bedarf „{need_title}“.",
            en=f"The offer “{offer_title}” matches your need “{need_title}” by {percent(score, 'en')}.")
    else:
        title = Localized(de=f"Neuer Treffer für Ihr Angebot „{offer_title}“",
                          en=f"New match for your offer “{offer_title}”")
        body = Localized(
            de=f"Der Bedarf „{need_title}“ passt zu {percent(score, 'de')} zu Ihrem Angebot „{offer_title}“.",
            en=f"The need “{need_title}” matches your offer “{offer_title}” by {percent(score, 'en')}.")
    return title, body


def own_item_title(data: dict[str, Any]) -> str:
    """The title of the recipient's own item in a match notification."""
    return data.get("need_title" if data.get("role") == "need" else "offer_title", "")


def coalesced_texts(*, role: str, item_title: str, count: int) -> tuple[Localized, Localized]:
    """Title and body of one notification telling `count` new pairs of one own item."""
    title = Localized(de=f"{count} neue Vorschläge für „{item_title}“",
                      en=f"{count} new suggestions for “{item_title}”")
    if role == "need":
        body = Localized(de=f"{count} Angebote passen zu Ihrem Bedarf „{item_title}“.",
                         en=f"{count} offers match your need “{item_title}”.")
    else:
        body = Localized(de=f"{count} Bedarfe passen zu Ihrem Angebot „{item_title}“.",
                         en=f"{count} needs match your offer “{item_title}”.")
    return title, body


def coalesced_notification_texts(notifications: list[Notification]) -> tuple[Localized, Localized]:
    """Title and body of a coalesced match notification (several pairs of one own item); the
    notification's own texts for a single pair."""
    if len(notifications) == 1:
        return notifications[0].title, notifications[0].body
    data = notifications[0].data
    return coalesced_texts(role=data.get("role", "need"), item_title=own_item_title(data),
                           count=len(notifications))


def contact_texts(*, status: str, requester_name: str | None, recipient_name: str | None,
                  message: str) -> tuple[Localized, Localized]:
    requester_de, requester_en = requester_name or "Jemand", requester_name or "Someone"
    recipient_de = recipient_name or "Ihr Gegenüber"
    recipient_en = recipient_name or "The other side"
    if status == "requested":
        title = Localized(de=f"Neue Kontaktanfrage von {requester_de}",
                          en=f"New contact request from {requester_en}")
        quote = f"\n\n„{message}“" if message else ""
        quote_en = f"\n\n“{message}”" if message else ""
        body = Localized(de=f"{requester_de} möchte mit Ihnen Kontakt aufnehmen.{quote}",
                         en=f"{requester_en} would like to get in touch with you.{quote_en}")
    elif status == "accepted":
        title = Localized(de="Kontaktanfrage angenommen", en="Contact request accepted")
        body = Localized(
            de=f"{recipient_de} hat die Kontaktanfrage von {requester_de} angenommen. "
               "Sie können sich jetzt direkt austauschen.",
            en=f"{recipient_en} accepted the contact request from {requester_en}. "
               "You can now talk to each other directly.")
    elif status == "declined":
        title = Localized(de="Kontaktanfrage abgelehnt", en="Contact request declined")
        body = Localized(de=f"{recipient_de} hat Ihre Kontaktanfrage leider abgelehnt.",
                         en=f"{recipient_en} has declined your contact request.")
    else:
        raise ValueError(f"unknown contact status {status!r}")
    return title, body


def item_hidden_texts(*, kind: str, title: str, reason: str) -> tuple[Localized, Localized]:
    """For the owners of an item a moderator of their municipality hid."""
    kind_de, kind_en = ("Ihr Angebot", "Your offer") if kind == "offer" else ("Ihr Gesuch", "Your need")
    return (Localized(de=f"{kind_de} „{title}“ wurde ausgeblendet",
                      en=f"{kind_en} “{title}” was hidden"),
            Localized(de=f"Die Moderation Ihrer Kommune hat {kind_de.lower()} „{title}“ "
                         f"ausgeblendet. Begründung: {reason}\n\nBis die Moderation es wieder "
                         "freigibt, wird es nicht gefunden und nicht vorgeschlagen. Bei Fragen "
                         "wenden Sie sich an Ihre Kommune.",
                      en=f"The moderators of your municipality hid {kind_en.lower()} “{title}”. "
                         f"Reason: {reason}\n\nUntil they show it again, nobody finds it and it "
                         "is not suggested. Please contact your municipality with any questions."))


# ---- shifts and sign-ups (topic engagements) ---------------------------------------------------

TIMEZONE = ZoneInfo("Europe/Berlin")
SOME_SHIFT = Localized(de="Ihr Einsatz", en="your shift")


def when(start: datetime, locale: str) -> str:
    """The shift's start in Europe/Berlin local time: "05.05.2026 um 10:00 Uhr"."""
    local = start.astimezone(TIMEZONE)
    if locale == "en":
        return local.strftime("%Y-%m-%d at %H:%M")
    return local.strftime("%d.%m.%Y um %H:%M Uhr")


def _titles(item_title: str | None) -> tuple[str, str]:
    if item_title:
        return f"„{item_title}“", f"“{item_title}”"
    return SOME_SHIFT.de, SOME_SHIFT.en


def _place(place_name: str | None) -> tuple[str, str]:
    return ((f" Ort: {place_name}.", f" Place: {place_name}.") if place_name else ("", ""))


def promoted_texts(*, item_title: str | None, start: datetime,
                   place_name: str | None) -> tuple[Localized, Localized]:
    """A waitlisted volunteer got a place."""
    de_title, en_title = _titles(item_title)
    place_de, place_en = _place(place_name)
    title_de, title_en = item_title or SOME_SHIFT.de, item_title or SOME_SHIFT.en
    return (Localized(de=f"Sie haben einen Platz: {title_de} am {when(start, 'de')}",
                      en=f"You have a place: {title_en} on {when(start, 'en')}"),
            Localized(de=f"Ein Platz ist frei geworden: Sie sind jetzt fest eingeplant für "
                         f"{de_title} am {when(start, 'de')}.{place_de}",
                      en=f"A place became free: you are now confirmed for {en_title} on "
                         f"{when(start, 'en')}.{place_en}"))


def removed_texts(*, item_title: str | None, start: datetime,
                  reason: str | None) -> tuple[Localized, Localized]:
    """The organisation took the volunteer off the shift, with a reason."""
    de_title, en_title = _titles(item_title)
    reason = reason or "—"
    return (Localized(de=f"Ihre Anmeldung für {de_title} wurde aufgehoben",
                      en=f"Your sign-up for {en_title} was removed"),
            Localized(de=f"Die Organisation hat Ihre Anmeldung für {de_title} am "
                         f"{when(start, 'de')} aufgehoben. Begründung: {reason}",
                      en=f"The organisation removed your sign-up for {en_title} on "
                         f"{when(start, 'en')}. Reason: {reason}"))


def shift_cancelled_texts(*, item_title: str | None,
                          start: datetime) -> tuple[Localized, Localized]:
    de_title, en_title = _titles(item_title)
    return (Localized(de=f"Abgesagt: {item_title or SOME_SHIFT.de} am {when(start, 'de')}",
                      en=f"Cancelled: {item_title or SOME_SHIFT.en} on {when(start, 'en')}"),
            Localized(de=f"Der Termin {de_title} am {when(start, 'de')} wurde abgesagt. "
                         "Ihre Anmeldung ist damit hinfällig.",
                      en=f"The date {en_title} on {when(start, 'en')} was cancelled. "
                         "Your sign-up is void."))


def shift_changed_texts(*, item_title: str | None, old_start: datetime, start: datetime,
                        end: datetime) -> tuple[Localized, Localized]:
    de_title, en_title = _titles(item_title)
    end_de = end.astimezone(TIMEZONE).strftime("%H:%M Uhr")
    end_en = end.astimezone(TIMEZONE).strftime("%H:%M")
    return (Localized(de=f"Neue Zeit: {item_title or SOME_SHIFT.de} am {when(start, 'de')}",
                      en=f"New time: {item_title or SOME_SHIFT.en} on {when(start, 'en')}"),
            Localized(de=f"Der Termin {de_title} (bisher {when(old_start, 'de')}) findet jetzt "
                         f"am {when(start, 'de')} bis {end_de} statt.",
                      en=f"The date {en_title} (so far {when(old_start, 'en')}) now takes place "
                         f"on {when(start, 'en')} until {end_en}."))


def reminder_texts(*, item_title: str | None, start: datetime, place_name: str | None,
                   hours_left: int) -> tuple[Localized, Localized]:
    de_title, en_title = _titles(item_title)
    place_de, place_en = _place(place_name)
    in_de = "1 Stunde" if hours_left == 1 else f"{hours_left} Stunden"
    in_en = "1 hour" if hours_left == 1 else f"{hours_left} hours"
    return (Localized(de=f"Erinnerung: {item_title or SOME_SHIFT.de} am {when(start, 'de')}",
                      en=f"Reminder: {item_title or SOME_SHIFT.en} on {when(start, 'en')}"),
            Localized(de=f"In {in_de} beginnt {de_title}: am {when(start, 'de')}.{place_de} "
                         "Falls Sie nicht kommen können, sagen Sie bitte rechtzeitig ab.",
                      en=f"{en_title[0].upper() + en_title[1:]} starts in {in_en}: on "
                         f"{when(start, 'en')}.{place_en} If you cannot come, please cancel "
                         "in time."))


# ---- e-mails ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


_WORDS = {
    "de": {
        "hello": "Hallo {name},", "hello_anonymous": "Hallo,",
        "why": "Warum dieser Vorschlag:", "open": "Ansehen",
        "footer": "Sie erhalten diese E-Mail, weil Sie Benachrichtigungen der Engagement-Plattform "
                  "aktiviert haben.",
        "unsubscribe": "Keine E-Mails mehr erhalten",
        "digest_subject_one": "Ihre tägliche Zusammenfassung: 1 neue Benachrichtigung",
        "digest_subject_many": "Ihre tägliche Zusammenfassung: {count} neue Benachrichtigungen",
        "digest_intro": "hier ist Ihre Zusammenfassung vom {day}:",
    },
    "en": {
        "hello": "Hello {name},", "hello_anonymous": "Hello,",
        "why": "Why this suggestion:", "open": "View",
        "footer": "You receive this e-mail because you turned on notifications of the "
                  "volunteering platform.",
        "unsubscribe": "Stop receiving e-mails",
        "digest_subject_one": "Your daily summary: 1 new notification",
        "digest_subject_many": "Your daily summary: {count} new notifications",
        "digest_intro": "here is your summary of {day}:",
    },
}


def _words(locale: str) -> dict[str, str]:
    return _WORDS["en" if locale == "en" else "de"]


def _subject(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= MAX_SUBJECT else one_line[: MAX_SUBJECT - 1] + "…"


def _greeting(locale: str, name: str | None) -> str:
    words = _words(locale)
    return words["hello"].format(name=name) if name else words["hello_anonymous"]


def _format_day(day: date, locale: str) -> str:
    return day.isoformat() if locale == "en" else day.strftime("%d.%m.%Y")


def _html_document(locale: str, subject: str, body_html: str, unsubscribe_url: str) -> str:
    words = _words(locale)
    return (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;line-height:1.5;color:#1a1a1a">'
        f"{body_html}"
        '<hr style="border:none;border-top:1px solid #ddd">'
        f'<p style="font-size:12px;color:#666">{escape(words["footer"])} '
        f'<a href="{escape(unsubscribe_url)}">{escape(words["unsubscribe"])}</a></p>'
        "</body></html>"
    )


def _text_footer(locale: str, unsubscribe_url: str) -> str:
    words = _words(locale)
    return f"-- \n{words['footer']}\n{words['unsubscribe']}: {unsubscribe_url}\n"


def _paragraphs_html(text: str) -> str:
    return "".join(f"<p>{escape(part).replace(chr(10), '<br>')}</p>"
                   for part in text.split("\n\n") if part)


def render_notification_mail(notification: Notification, *, locale: str,
                             recipient_name: str | None, unsubscribe_url: str) -> Mail:
    """One instant mail for one notification."""
    words = _words(locale)
    title, body = notification.title.get(locale), notification.body.get(locale)
    link = notification.data.get("link")
    reasons = [reason["label"]["en" if locale == "en" else "de"]
               for reason in top_reasons(notification.data.get("reasons", []))]
    text_parts = [_greeting(locale, recipient_name), body]
    html_parts = [f"<p>{escape(_greeting(locale, recipient_name))}</p>", _paragraphs_html(body)]
    if reasons:
        text_parts.append(words["why"] + "\n" + "\n".join(f"- {label}" for label in reasons))
        html_parts.append(f"<p>{escape(words['why'])}</p><ul>"
                          + "".join(f"<li>{escape(label)}</li>" for label in reasons) + "</ul>")
    if link:
        text_parts.append(f"{words['open']}: {link}")
        html_parts.append(f'<p><a href="{escape(link)}">{escape(words["open"])}</a></p>')
    subject = _subject(title)
    text = "\n\n".join(text_parts) + "\n\n" + _text_footer(locale, unsubscribe_url)
    html = _html_document(locale, subject, f"<h1 style=\"font-size:20px\">{escape(title)}</h1>"
                          + "".join(html_parts), unsubscribe_url)
    return Mail(subject=subject, text=text, html=html)


def render_coalesced_mail(notifications: list[Notification], *, locale: str,
                          recipient_name: str | None, unsubscribe_url: str) -> Mail:
    """One instant mail for the pairs of a coalescing window: "3 neue Vorschläge für „…“",
    each pair with what matched, its strongest reasons and its link. One pair: the usual mail."""
    if len(notifications) == 1:
        return render_notification_mail(notifications[0], locale=locale,
                                        recipient_name=recipient_name,
                                        unsubscribe_url=unsubscribe_url)
    words = _words(locale)
    title, intro = (text.get(locale) for text in coalesced_notification_texts(notifications))
    greeting = _greeting(locale, recipient_name)
    text_items, html_items = [], []
    for notification in notifications:
        body, link = notification.body.get(locale), notification.data.get("link")
        reasons = [reason["label"]["en" if locale == "en" else "de"]
                   for reason in top_reasons(notification.data.get("reasons", []))]
        lines = [f"- {body}"]
        html = [f"<p>{escape(body)}</p>"]
        if reasons:
            lines.append(f"  {words['why']} " + "; ".join(reasons))
            html.append(f"<p>{escape(words['why'])}</p><ul>"
                        + "".join(f"<li>{escape(label)}</li>" for label in reasons) + "</ul>")
        if link:
            lines.append(f"  {words['open']}: {link}")
            html.append(f'<p><a href="{escape(link)}">{escape(words["open"])}</a></p>')
        text_items.append("\n".join(lines))
        html_items.append("<li>" + "".join(html) + "</li>")
    subject = _subject(title)
    text = (f"{greeting}\n\n{intro}\n\n" + "\n\n".join(text_items) + "\n\n"
            + _text_footer(locale, unsubscribe_url))
    html = _html_document(locale, subject,
                          f"<h1 style=\"font-size:20px\">{escape(title)}</h1>"
                          f"<p>{escape(greeting)}</p><p>{escape(intro)}</p>"
                          f"<ul>{''.join(html_items)}</ul>", unsubscribe_url)
    return Mail(subject=subject, text=text, html=html)


def render_digest_mail(notifications: list[Notification], *, locale: str,
                       recipient_name: str | None, unsubscribe_url: str, day: date) -> Mail:
    """One mail listing several notifications (the daily digest)."""
    words = _words(locale)
    count = len(notifications)
    subject = (words["digest_subject_one"] if count == 1
               else words["digest_subject_many"].format(count=count))
    greeting = _greeting(locale, recipient_name)
    intro = words["digest_intro"].format(day=_format_day(day, locale))
    text_lines, html_items = [], []
    for notification in notifications:
        # The body says what matched and how well (the title alone repeats for one item).
        title, body = notification.title.get(locale), notification.body.get(locale)
        link = notification.data.get("link")
        text_lines.append(f"- {title}\n  {body}" + (f"\n  {link}" if link else ""))
        linked = f'<a href="{escape(link)}">{escape(title)}</a>' if link else escape(title)
        html_items.append(f"<li><strong>{linked}</strong><br>{escape(body)}</li>")
    text = (f"{greeting}\n\n{intro}\n\n" + "\n\n".join(text_lines) + "\n\n"
            + _text_footer(locale, unsubscribe_url))
    html = _html_document(locale, subject,
                          f"<p>{escape(greeting)}</p><p>{escape(intro)}</p>"
                          f"<ul>{''.join(html_items)}</ul>", unsubscribe_url)
    return Mail(subject=_subject(subject), text=text, html=html)


def unsubscribe_page(locale: str, *, done: bool) -> tuple[str, str]:
    """(title, message) of the small page the unsubscribe link answers with."""
    if not done:
        return (("Invalid link", "This unsubscribe link is invalid or incomplete.") if locale == "en"
                else ("Ungültiger Link", "Dieser Abmeldelink ist ungültig oder unvollständig."))
    if locale == "en":
        return ("Unsubscribed", "You will no longer receive notification e-mails. You can turn "
                "them on again in your notification settings.")
    return ("Abgemeldet", "Sie erhalten keine Benachrichtigungs-E-Mails mehr. In Ihren "
            "Benachrichtigungseinstellungen können Sie sie wieder einschalten.")


def simple_page(locale: str, title: str, message: str) -> str:
    return (f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title></head>"
            '<body style="font-family:Arial,Helvetica,sans-serif;max-width:40em;margin:3em auto">'
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>")
