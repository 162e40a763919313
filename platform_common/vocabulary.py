"""Controlled vocabularies with German and English labels.

Categories are the fields of engagement (Handlungsfelder); requirements are what a need asks of
a helper (and what an offer declares to fulfil). Ids are stable API values; labels may change.
"""
from __future__ import annotations

from typing import Final

CATEGORIES: Final[dict[str, dict[str, str]]] = {
    "social": {"de": "Soziales", "en": "Social welfare"},
    "children_youth": {"de": "Kinder und Jugend", "en": "Children and youth"},
    "elderly": {"de": "Seniorinnen und Senioren", "en": "Older people"},
    "education": {"de": "Bildung und Lernen", "en": "Education and learning"},
    "integration": {"de": "Integration und Geflüchtete", "en": "Integration and refugees"},
    "inclusion": {"de": "Inklusion und Behinderung", "en": "Inclusion and disability"},
    "environment": {"de": "Umwelt- und Naturschutz", "en": "Environment and nature"},
    "animals": {"de": "Tierschutz", "en": "Animal welfare"},
    "sport": {"de": "Sport und Bewegung", "en": "Sport and exercise"},
    "culture": {"de": "Kunst und Kultur", "en": "Arts and culture"},
    "health": {"de": "Gesundheit und Pflege", "en": "Health and care"},
    "civil_protection": {"de": "Katastrophen- und Bevölkerungsschutz", "en": "Civil protection and disaster relief"},
    "neighbourhood": {"de": "Nachbarschaft und Quartier", "en": "Neighbourhood"},
    "digital": {"de": "Digitales", "en": "Digital skills"},
    "democracy": {"de": "Demokratie und Beteiligung", "en": "Democracy and participation"},
}

REQUIREMENTS: Final[dict[str, dict[str, str]]] = {
    "police_clearance": {"de": "Erweitertes Führungszeugnis", "en": "Enhanced police clearance certificate"},
    "driving_licence": {"de": "Führerschein Klasse B", "en": "Driving licence (car)"},
    "first_aid": {"de": "Erste-Hilfe-Kurs", "en": "First aid course"},
    "min_age_16": {"de": "Mindestalter 16 Jahre", "en": "Minimum age 16"},
    "min_age_18": {"de": "Mindestalter 18 Jahre", "en": "Minimum age 18"},
    "measles_vaccination": {"de": "Masernschutz-Nachweis", "en": "Proof of measles immunity"},
    "food_hygiene": {"de": "Belehrung nach Infektionsschutzgesetz", "en": "Food hygiene instruction"},
    "swimming_badge": {"de": "Rettungsschwimmabzeichen", "en": "Lifeguard certificate"},
}

ENGAGEMENT_TYPES: Final[dict[str, dict[str, str]]] = {
    "spontaneous": {"de": "Spontan / einmalig", "en": "Spontaneous / one-off"},
    "regular": {"de": "Regelmäßig", "en": "Regular"},
    "project": {"de": "Projekt", "en": "Project"},
}

ACTOR_TYPES: Final[dict[str, dict[str, str]]] = {
    "person": {"de": "Privatperson", "en": "Private person"},
    "association": {"de": "Verein", "en": "Association"},
    "initiative": {"de": "Initiative", "en": "Initiative"},
    "education": {"de": "Bildungseinrichtung", "en": "Educational institution"},
    "company": {"de": "Unternehmen", "en": "Company"},
}

VISIBILITIES: Final[dict[str, dict[str, str]]] = {
    "tenant": {"de": "Nur eigene Kommune", "en": "Own municipality only"},
    "region": {"de": "Kommune und Nachbarkommunen", "en": "Municipality and neighbours"},
    "state": {"de": "Ganzes Land", "en": "Whole state"},
}

LANGUAGES: Final[frozenset[str]] = frozenset(
    {"de", "en", "tr", "ar", "uk", "ru", "pl", "fr", "es", "it", "fa", "ku", "ro", "el", "nl", "dgs"}
)


def as_list(vocabulary: dict[str, dict[str, str]]) -> list[dict]:
    return [{"id": key, "label": dict(labels)} for key, labels in vocabulary.items()]
