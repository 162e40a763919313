from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator

from platform_common.settings import CommonSettings, MongoSettings

# Well known (it is in the repository): accepted in dev only.
DEV_CALENDAR_SECRET = "dev-only-calendar-secret-not-for-production"
MIN_CALENDAR_SECRET_LENGTH = 32


class ProfilesSettings(CommonSettings, MongoSettings):
    service_name: str = "profiles"
    signs_service_calls: ClassVar[bool] = False  # calls no other service
    mongo_db: str = "profiles"
    # How often a transaction that lost a write conflict is retried before giving up.
    transaction_attempts: int = Field(20, ge=1, le=100)
    # Contact requests are for current matches, as the relay recorded them from the `matches`
    # topic (collection `suggestions`). Off: any mutually visible pair may be asked.
    contacts_require_match: bool = True
    # How long a contact request waits for its pair to become a current suggestion before it
    # is refused: covers the moment between matching announcing it and the relay recording it.
    contacts_match_wait_s: float = Field(2.0, ge=0, le=10)
    # Where people reach the platform (e.g. https://engage.example): the start of a person's
    # calendar URL. Empty: the URL is a path (/api/v1/calendars/...), the web app adds its host.
    public_base_url: str = ""
    # Derives the secret tokens of people's calendar feed URLs (domain/calendar_links.py), so
    # a URL can be shown again while only its hash is stored. Changing it changes every
    # person's URL. Dev falls back to DEV_CALENDAR_SECRET; every other environment must set it.
    calendar_secret: SecretStr | None = None
    # Only the API serves calendar links; the relay (a subclass) needs no secret.
    uses_calendar_secret: ClassVar[bool] = True

    @field_validator("calendar_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _calendar_secret_outside_dev(self) -> "ProfilesSettings":
        if not self.uses_calendar_secret:
            return self
        if self.environment == "dev" and self.calendar_secret is None:
            self.calendar_secret = SecretStr(DEV_CALENDAR_SECRET)
        secret = self.calendar_secret.get_secret_value() if self.calendar_secret else ""
        if self.environment != "dev" and (
                secret == DEV_CALENDAR_SECRET or len(secret) < MIN_CALENDAR_SECRET_LENGTH):
            raise ValueError(
                f"CALENDAR_SECRET must be set outside dev to a random value of at least "
                f"{MIN_CALENDAR_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`), not "
                f"the dev value: it keeps people's calendar feed URLs secret")
        return self

    @property
    def calendar_key(self) -> bytes:
        return self.calendar_secret.get_secret_value().encode()


class RelaySettings(ProfilesSettings):
    """The outbox relay reads the same database as the profiles API."""

    service_name: str = "profiles-relay"
    uses_calendar_secret: ClassVar[bool] = False
    relay_batch_size: int = Field(100, ge=1, le=1000)
    relay_idle_poll_s: float = Field(0.05, gt=0, le=10)
    relay_backoff_max_s: float = Field(5.0, gt=0)
    # Only one relay publishes at a time (the lease holder), so per-entity order holds.
    relay_lease_ttl_s: float = Field(15.0, ge=2)
    # Who holds the lease; default host:port, stable across restarts of one instance.
    relay_instance_id: str | None = None
    expiry_interval_s: float = Field(30.0, gt=0)
    # The consumer group that reads `matches` for the tenants' statistics and the current
    # suggestions (both idempotent: a replay from the earliest offset rebuilds them).
    stats_consumer_group: str = "profiles-stats"
    # Statistics and current suggestions may lag this much behind `matches` (contact requests
    # wait up to `contacts_match_wait_s` for a pair): fewer, larger writes under load.
    stats_consumer_linger_s: float = Field(0.5, ge=0, le=5)
