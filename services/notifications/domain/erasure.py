"""GDPR erasure seen from the other side: a notification that tells about an erased actor keeps
what happened (a contact request came, a match was found) but no longer the erased actor's name,
message or item titles. Pure; the service finds the notifications and stores the result."""
from __future__ import annotations

from typing import Any

from services.notifications.domain import messages
from services.notifications.domain.models import Localized

# What an erased actor's item is called in the other side's texts (its title is gone).
ERASED_ITEM = Localized(de="gelöschter Eintrag", en="deleted entry")


def mentioned_actors(data: dict[str, Any]) -> set[str]:
    """The actors a notification's data names besides its recipient."""
    counterpart = data.get("counterpart") or {}
    return {actor_id for actor_id in (data.get("requester_actor_id"),
                                      data.get("recipient_actor_id"), counterpart.get("actor_id"))
            if actor_id}


def without_erased(*, type_: str, data: dict[str, Any], erased: set[str],
                   names: dict[str, str]) -> tuple[Localized, Localized, dict[str, Any]] | None:
    """(title, body, data) rewritten without what the `erased` actors wrote or were called;
    None when the notification names none of them. `names`: the current names of the others."""
    if type_.startswith("contact."):
        requester, recipient = data.get("requester_actor_id"), data.get("recipient_actor_id")
        if requester not in erased and recipient not in erased:
            return None
        title, body = messages.contact_texts(
            status=type_.removeprefix("contact."), message="",
            requester_name=None if requester in erased else names.get(requester),
            recipient_name=None if recipient in erased else names.get(recipient))
        return title, body, {**data, "message": ""}
    if type_ == "match.found":
        counterpart = data.get("counterpart") or {}
        if counterpart.get("actor_id") not in erased:
            return None
        other = "need" if data.get("role") == "offer" else "offer"  # the erased actor's side
        texts = {}
        for locale in ("de", "en"):
            titles = {"offer": data.get("offer_title", ""), "need": data.get("need_title", "")}
            titles[other] = ERASED_ITEM.get(locale)
            texts[locale] = messages.match_texts(role=data.get("role", "need"),
                                                 offer_title=titles["offer"],
                                                 need_title=titles["need"],
                                                 score=data.get("score", 0.0))
        title = Localized(de=texts["de"][0].de, en=texts["en"][0].en)
        body = Localized(de=texts["de"][1].de, en=texts["en"][1].en)
        return title, body, {**data, f"{other}_title": "",
                             "counterpart": {**counterpart, "title": ""}}
    return None
