"""Strict request bodies: unknown fields, wrong types and out-of-range values are refused.

Every problem is reported by FastAPI as a 422 with the path of the offending field
(e.g. `schedule.dates.0.end`). Values are normalised on the way in: strings are stripped,
skills lowercased, naive datetimes read as Europe/Berlin and stored in UTC (millisecond
precision, as MongoDB keeps them). Text that people read refuses control characters and bidi
overrides (a name must not hide a NUL or turn "gnp.exe" into "exe.png"); only multi-line
texts keep line breaks and tabs.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr,
    ValidationInfo, field_validator,
)

from pydantic_core import core_schema

from platform_common.vocabulary import (
    ACTOR_TYPES, CATEGORIES, ENGAGEMENT_TYPES, LANGUAGES, REQUIREMENTS, VISIBILITIES,
)

BERLIN = ZoneInfo("Europe/Berlin")
MAX_DATES = 50
MAX_WEEKLY = 50
MAX_SKILLS = 20
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9-]{2,40}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
TIME_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
FACTOR_PATTERN = re.compile(r"^[a-z][a-z_]{1,39}$")
DATA_IMAGE_PATTERN = re.compile(r"^data:image/(png|jpeg|webp|gif|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$")
MAX_LOGO_DATA = 100_000
# Not in text people read: C0 and C1 controls (NUL, ESC, DEL, ...), the Unicode line and
# paragraph separators, and the bidi embeddings, overrides and isolates.
_CONTROLS_BEYOND_C0 = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f" + _CONTROLS_BEYOND_C0 + "]")
MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f" + _CONTROLS_BEYOND_C0 + "]")  # keeps \t, \n
MAX_LEGAL_TEXT = 20_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Known:
    """A vocabulary's value: checked after the type (with our message), and stated as `enum`
    in the JSON schema so that OpenAPI clients know the allowed values."""

    def __init__(self, vocabulary, what: str):
        self.allowed, self.what = list(vocabulary), what

    def check(self, value: str) -> str:
        if value not in self.allowed:
            raise ValueError(f"unknown {self.what} {value!r}")
        return value

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler):
        return {**handler(schema), "enum": self.allowed}


def _known(vocabulary, what: str) -> _Known:
    return _Known(vocabulary, what)


def _forbidden_character(pattern: re.Pattern, value: str) -> None:
    found = pattern.search(value)
    if found:
        raise ValueError(f"must not contain control characters or bidi overrides "
                         f"(found U+{ord(found.group()):04X})")


def _single_line(value: str) -> str:
    _forbidden_character(SINGLE_LINE_FORBIDDEN, value)
    return value


def _multi_line(value: str) -> str:
    value = value.replace("\r\n", "\n")  # Windows line ends are line ends
    _forbidden_character(MULTI_LINE_FORBIDDEN, value)
    return value


SingleLine = AfterValidator(_single_line)
MultiLine = AfterValidator(_multi_line)


# The same rules as regular expressions, only for the JSON schema (OpenAPI clients and the
# fuzzer read them; the validators above decide): leading and trailing whitespace is stripped,
# what is left has at least `minimum` characters and none of the forbidden ones.
def _text_pattern(minimum: int, *, multi_line: bool = False):
    bad = ((r"\x00-\x08\x0b-\x1f" if multi_line else r"\x00-\x1f") + _CONTROLS_BEYOND_C0)
    inner = rf"(?:[^{bad}]|\r\n)" if multi_line else rf"[^{bad}]"
    edge = rf"[^\s{bad}]"
    if minimum == 0:
        core = rf"(?:{edge}(?:{inner}*{edge})?)?"
    elif minimum == 1:
        core = rf"{edge}(?:{inner}*{edge})?"
    else:
        core = rf"{edge}{inner}{{{minimum - 2},}}{edge}"
    return _stated(rf"^\s*{core}\s*$")


def _stated(pattern: str, **keywords):
    """Only for the JSON schema: a rule the validators enforce, as a pattern clients can read."""
    return Field(json_schema_extra={"pattern": pattern, **keywords})


_PRINTABLE = r"[^\x00-\x1f" + _CONTROLS_BEYOND_C0 + "]"
_EMAIL_PART = r"[^@\s\x00-\x1f" + _CONTROLS_BEYOND_C0 + "]+"
EMAIL_DOC = rf"^\s*{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}\s*$"
LOGO_DOC = (rf"^(?:http://{_PRINTABLE}{{0,493}}|https://{_PRINTABLE}{{0,492}}"
            r"|data:image/(?:png|jpeg|webp|gif|svg\+xml);base64,[A-Za-z0-9+/]+={0,2})$")


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _tenant_id(value: str) -> str:
    if not TENANT_ID_PATTERN.match(value):
        raise ValueError("must be 2 to 40 characters of a-z, 0-9 and '-'")
    return value


def _email(value: str) -> str:
    if not EMAIL_PATTERN.match(value):
        raise ValueError("is not a valid e-mail address")
    return value.lower()


def _color(value: str) -> str:
    if not COLOR_PATTERN.match(value):
        raise ValueError("must be a colour like #1a2b3c")
    return value.lower()


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


def _time_of_day(value: str) -> str:
    if not TIME_PATTERN.match(value):
        raise ValueError("must be a time HH:MM between 00:00 and 23:59")
    return value


def _skill(value: str) -> str:
    value = value.strip().lower()
    if not value:
        raise ValueError("must not be blank")
    return value


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are Berlin local time; stored in UTC with millisecond precision."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=BERLIN)
    value = value.astimezone(timezone.utc)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


Title = Annotated[StrictStr, Field(max_length=140), AfterValidator(str.strip), SingleLine,
                  AfterValidator(_not_blank), AfterValidator(lambda v: _min_length(v, 3)),
                  _text_pattern(3)]
Name = Annotated[StrictStr, Field(max_length=140), AfterValidator(str.strip), SingleLine,
                 AfterValidator(_not_blank), AfterValidator(lambda v: _min_length(v, 2)),
                 _text_pattern(2)]
Description = Annotated[StrictStr, Field(max_length=5000), AfterValidator(str.strip), MultiLine,
                        _text_pattern(0, multi_line=True)]
PlaceName = Annotated[StrictStr, Field(max_length=140), AfterValidator(str.strip), SingleLine,
                      _text_pattern(0)]
Reason = Annotated[StrictStr, Field(max_length=500), AfterValidator(str.strip), MultiLine,
                   AfterValidator(_not_blank), _text_pattern(1, multi_line=True)]
Sub = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(str.strip),
                SingleLine, AfterValidator(_not_blank), _text_pattern(1)]
TenantId = Annotated[StrictStr, AfterValidator(_tenant_id), _stated(TENANT_ID_PATTERN.pattern)]
Email = Annotated[StrictStr, Field(max_length=254), AfterValidator(str.strip), SingleLine,
                  AfterValidator(_email), _stated(EMAIL_DOC)]
Color = Annotated[StrictStr, AfterValidator(_color), _stated(COLOR_PATTERN.pattern)]
Url = Annotated[StrictStr, Field(max_length=500), SingleLine, AfterValidator(_url)]
Category = Annotated[StrictStr, _known(CATEGORIES, "category")]
Requirement = Annotated[StrictStr, _known(REQUIREMENTS, "requirement")]
Language = Annotated[StrictStr, _known(LANGUAGES, "language")]
Skill = Annotated[StrictStr, Field(max_length=40), AfterValidator(_skill), SingleLine]
EngagementType = Annotated[StrictStr, _known(ENGAGEMENT_TYPES, "engagement type")]
ActorTypeName = Annotated[StrictStr, _known(ACTOR_TYPES, "actor type")]
VisibilityName = Annotated[StrictStr, _known(VISIBILITIES, "visibility")]
RadiusKm = Annotated[StrictFloat, Field(ge=1, le=200, allow_inf_nan=False)]
Capacity = Annotated[StrictInt, Field(ge=1, le=10000)]
Version = Annotated[StrictInt, Field(ge=1)]
Weight = Annotated[StrictFloat, Field(ge=0, le=10, allow_inf_nan=False)]


def _min_length(value: str, minimum: int) -> str:
    if len(value) < minimum:
        raise ValueError(f"must have at least {minimum} characters")
    return value


class Location(Strict):
    lat: Annotated[StrictFloat, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[StrictFloat, Field(ge=-180, le=180, allow_inf_nan=False)]


class DateWindow(Strict):
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return to_utc(value)

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError("must be after start")
        return value


class WeeklyWindow(Strict):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: Annotated[StrictStr, AfterValidator(_time_of_day)]
    end: Annotated[StrictStr, AfterValidator(_time_of_day)]

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError("must be after start")
        return value


class Schedule(Strict):
    dates: Annotated[list[DateWindow], Field(max_length=MAX_DATES)] = Field(default_factory=list)
    weekly: Annotated[list[WeeklyWindow], Field(max_length=MAX_WEEKLY)] = Field(default_factory=list)


Categories = Annotated[list[Category], Field(min_length=1, max_length=5), AfterValidator(_unique)]
Skills = Annotated[list[Skill], Field(max_length=MAX_SKILLS), AfterValidator(_unique)]
Requirements = Annotated[list[Requirement], Field(max_length=len(REQUIREMENTS)), AfterValidator(_unique)]
Languages = Annotated[list[Language], Field(max_length=len(LANGUAGES)), AfterValidator(_unique)]


# ---- tenants ---------------------------------------------------------------------------------
def _logo(value: str) -> str:
    if value.startswith("data:"):
        if not DATA_IMAGE_PATTERN.match(value):
            raise ValueError("must be an http(s) URL or a data:image/(png|jpeg|webp|gif|svg+xml)"
                             ";base64,... URL")
        if len(value) > MAX_LOGO_DATA:
            raise ValueError(f"an embedded logo may have at most {MAX_LOGO_DATA} characters")
        return value
    if len(value) > 500:
        raise ValueError("a logo URL may have at most 500 characters")
    return _url(value)


Logo = Annotated[StrictStr, SingleLine, AfterValidator(_logo),
                 _stated(LOGO_DOC, maxLength=MAX_LOGO_DATA)]


def _text(max_length: int):
    return Annotated[StrictStr, Field(max_length=max_length), AfterValidator(str.strip), MultiLine]


class WelcomeText(Strict):
    de: _text(2000) = ""
    en: _text(2000) = ""


class LegalText(Strict):
    de: _text(MAX_LEGAL_TEXT) = ""
    en: _text(MAX_LEGAL_TEXT) = ""


class Branding(Strict):
    """A municipality's look and texts. On PATCH only the given fields change (null clears)."""

    display_name: Annotated[StrictStr, Field(max_length=140), SingleLine] | None = None
    primary_color: Color | None = None
    secondary_color: Color | None = None
    text_color: Color | None = None
    background_color: Color | None = None
    logo_url: Logo | None = None
    welcome_text: WelcomeText | None = None
    impressum: LegalText | None = None
    datenschutz: LegalText | None = None


def _factor_name(key: str) -> str:
    if not FACTOR_PATTERN.match(key):
        raise ValueError(f"{key!r} is not a factor name (a-z and '_')")
    return key


MatchingWeights = Annotated[dict[Annotated[StrictStr, AfterValidator(_factor_name)], Weight],
                            Field(max_length=30)]


class VolunteerCard(Strict):
    """The municipality's volunteer card (Ehrenamtskarte): hours a year that earn it."""
    hours_per_year: Annotated[StrictInt, Field(ge=1, le=2000)] = 250


class TenantCreate(Strict):
    id: TenantId
    name: Name
    center: Location
    neighbours: Annotated[list[TenantId], Field(max_length=100), AfterValidator(_unique)] = \
        Field(default_factory=list)
    categories: Annotated[list[Category], AfterValidator(_unique)] = Field(default_factory=list)
    branding: Branding = Field(default_factory=Branding)
    matching_weights: MatchingWeights = Field(default_factory=dict)


class TenantPatch(Strict):
    # A field given as null is refused: these defaults only stand for "not given".
    name: Name = None
    center: Location = None
    neighbours: Annotated[list[TenantId], Field(max_length=100), AfterValidator(_unique)] = None
    categories: Annotated[list[Category], AfterValidator(_unique)] = None
    branding: Branding = None
    matching_weights: MatchingWeights = None
    volunteer_card: VolunteerCard = None
    version: Version | None = None


# ---- actors ----------------------------------------------------------------------------------
class ActorCreate(Strict):
    type: ActorTypeName
    name: Name
    email: Email
    location: Location
    place_name: PlaceName | None = None
    locale: Literal["de", "en"] = "de"
    # An organisation's logo on its public profile: an https URL or an embedded image.
    logo_url: Logo | None = None


class ActorPatch(Strict):
    name: Name = None
    email: Email = None
    location: Location = None
    place_name: PlaceName | None = None
    locale: Literal["de", "en"] = None
    logo_url: Logo | None = None
    version: Version | None = None


class MemberAdd(Strict):
    sub: Sub


# ---- offers and needs ------------------------------------------------------------------------
class ItemCreate(Strict):
    actor_id: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    title: Title
    description: Description = ""
    categories: Categories
    skills: Skills = Field(default_factory=list)
    requirements: Requirements = Field(default_factory=list)
    engagement: EngagementType
    location: Location
    place_name: PlaceName | None = None
    radius_km: RadiusKm = 10.0
    remote: StrictBool = False
    schedule: Schedule = Field(default_factory=Schedule)
    capacity: Capacity = 1
    visibility: VisibilityName = "tenant"
    languages: Languages = Field(default_factory=lambda: ["de"])
    accessible: StrictBool = False


class ItemPatch(Strict):
    """The same fields as on creation, all optional; `version` (or If-Match) is required."""

    title: Title = None
    description: Description = None
    categories: Categories = None
    skills: Skills = None
    requirements: Requirements = None
    engagement: EngagementType = None
    location: Location = None
    place_name: PlaceName | None = None
    radius_km: RadiusKm = None
    remote: StrictBool = None
    schedule: Schedule = None
    capacity: Capacity = None
    visibility: VisibilityName = None
    languages: Languages = None
    accessible: StrictBool = None
    version: Version | None = None


class HideRequest(Strict):
    reason: Reason


def changes_of(patch: BaseModel) -> dict:
    """The fields a PATCH body actually set (without `version`), as plain data."""
    return {name: value for name, value in patch.model_dump().items()
            if name in patch.model_fields_set and name != "version"}
