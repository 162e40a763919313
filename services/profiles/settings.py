from typing import ClassVar

from pydantic import Field

from platform_common.settings import CommonSettings, MongoSettings


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


class RelaySettings(ProfilesSettings):
    """The outbox relay reads the same database as the profiles API."""

    service_name: str = "profiles-relay"
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
