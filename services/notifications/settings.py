"""Configuration of the notifications service (environment variables, validated at start)."""
from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from platform_common.settings import CommonSettings, MongoSettings, RedisSettings
from services.notifications.domain.webhooks import AllowedTargets

DEV_SECRET = "dev-only-notifications-secret-change-me"


class NotificationsSettings(CommonSettings, MongoSettings, RedisSettings):
    service_name: str = "notifications"
    port: int = Field(8084, ge=1, le=65535)
    mongo_db: str = "notifications"
    consumer_group: str = "notifications"

    # Links in mails point at the public web UI / API behind the gateway.
    public_base_url: str = "http://127.0.0.1:8080"
    # Signs unsubscribe links; the dev default is refused in production.
    notifications_secret: SecretStr = SecretStr(DEV_SECRET)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(10.0, gt=0)
    mail_from: str = "Engagement-Plattform <noreply@engage.example>"
    # Open SMTP connections, each reused for many mails (one sending thread each).
    smtp_connections: int = Field(8, ge=1, le=64)
    # Background senders and how many claimed deliveries may wait for them; a full queue
    # slows the event consumer down.
    dispatch_senders: int = Field(4, ge=1, le=64)
    dispatch_queue_size: int = Field(2000, ge=1)

    webhook_timeout_s: float = Field(5.0, gt=0)
    # Webhooks reach only public addresses, in every environment: a URL at loopback, private,
    # link-local or metadata addresses would let a member probe the inside (SSRF). Internal
    # targets an operator wants anyway are named here: IPs, CIDRs or exact host names, comma
    # separated (the tests' receivers listen on 127.0.0.2).
    webhook_allowed_targets: str = ""
    # Replaced by WEBHOOK_ALLOWED_TARGETS; still read only to refuse it with a clear message.
    webhook_allow_private_targets: bool | None = None

    # At most this many instant mails per recipient and clock hour; the rest go into the digest.
    instant_mail_limit_per_hour: int = Field(20, ge=1)

    # Immediate attempts of one delivery (with exponential backoff) before it is left to the
    # periodic retry task.
    delivery_attempts: int = Field(3, ge=1, le=10)
    delivery_backoff_initial_s: float = Field(0.2, gt=0)
    delivery_backoff_max_s: float = Field(2.0, gt=0)
    # The periodic retry task: how often it looks, how often it retries one delivery, and the
    # delay before the first retry (doubling each round, capped).
    retry_interval_s: float = Field(30.0, gt=0)
    retry_rounds: int = Field(5, ge=1, le=50)
    retry_delay_initial_s: float = Field(60.0, ge=0)
    retry_delay_max_s: float = Field(3600.0, gt=0)
    # A delivery still "pending" this long after it was claimed lost its sender (a crash).
    # Also how often mails waiting for their recipient's actor event are checked against the
    # recipients that arrived (a safety net: the actor event itself releases them).
    pending_lease_s: float = Field(300.0, gt=0)
    # A mail whose recipient's actor event never arrives is given up after this long.
    waiting_retention_hours: float = Field(7 * 24.0, gt=0)

    # Coalescing: new pairs for the same recipient and the same item within this many seconds
    # become one notification (one inbox entry, one mail, one webhook call); 0 turns it off
    # (one notification per pair and side, delivered at once). The window task looks for
    # closed windows every coalesce_check_interval_s; a window whose listed pair is not stored
    # waits for it up to coalesce_repair_after_s, and a closing a crash interrupted is finished
    # after coalesce_repair_after_s.
    coalesce_window_s: float = Field(2.0, ge=0)
    coalesce_check_interval_s: float = Field(0.25, gt=0)
    coalesce_repair_after_s: float = Field(10.0, gt=0)

    # How often the reminder task looks for reminders whose time has come.
    reminder_check_interval_s: float = Field(5.0, gt=0)

    # Daily digest: checked every digest_check_interval_s, sent from digest_hour (Europe/Berlin).
    digest_hour: int = Field(7, ge=0, le=23)
    digest_check_interval_s: float = Field(300.0, gt=0)
    timezone: str = "Europe/Berlin"

    @field_validator("webhook_allowed_targets")
    @classmethod
    def _targets_parse(cls, value: str) -> str:
        AllowedTargets(value)  # raises ValueError naming the bad entry
        return value

    @property
    def allowed_webhook_targets(self) -> AllowedTargets:
        return AllowedTargets(self.webhook_allowed_targets)

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> "NotificationsSettings":
        if self.webhook_allow_private_targets is not None:
            raise ValueError("WEBHOOK_ALLOW_PRIVATE_TARGETS is gone: name the internal webhook "
                             "targets you want in WEBHOOK_ALLOWED_TARGETS instead")
        if self.environment == "production":
            secret = self.notifications_secret.get_secret_value()
            if secret == DEV_SECRET or len(secret) < 32:
                raise ValueError("NOTIFICATIONS_SECRET must be set to a random value of at least "
                                 "32 characters in production")
        return self
