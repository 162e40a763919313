"""Signed identities between services (the second layer behind the network policies).

Two kinds of short-lived Ed25519 JWTs, each addressed to ONE receiving service (`aud`):

- the **user's identity** (`X-Identity-Token`: `sub`, `tenant`, `roles`), signed only by the
  gateway after it verified the user's bearer token;
- a **service credential** (`X-Service-Token`), signed by the calling service with its own key:
  "service X calls you". Internal routes require one.

Every service knows every service's PUBLIC key (`SERVICE_PUBLIC_KEYS`) and holds only its own
private key (`SERVICE_SIGNING_KEY`), so a service that can verify identities cannot mint them.
No service calls another on a user's behalf (matching and profiles answer from read models fed
by events), so a service accepts only an identity addressed to itself.

Keys are the base64 of the 32 raw bytes of an Ed25519 key
(`python -m platform_common.service_identity` prints a new key pair). In dev, well-known keys derived from each service's name stand in;
settings refuse them outside dev.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import time
from typing import Any, Iterable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from platform_common.identity import ROLES, Identity

GATEWAY = "gateway"  # the only service whose signature makes a user identity
IDENTITY_HEADER = "X-Identity-Token"
CALLER_HEADER = "X-Service-Token"
ALGORITHM = "EdDSA"
TOKEN_TTL_S = 60
# Clocks of two pods may differ by a little.
LEEWAY_S = 5
# `use` claim: an identity token must never pass as a service credential, and the other way.
USE_IDENTITY, USE_SERVICE = "identity", "service"
# Every process of the platform that may sign (dev keys exist for these names).
SERVICE_NAMES = ("gateway", "profiles", "profiles-relay", "search", "matching",
                 "matching-worker", "notifications")


class InvalidServiceToken(Exception):
    """A token between services is missing its parts, expired, addressed elsewhere or forged."""


# ---- keys ----------------------------------------------------------------------------------------
def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"{what} must be the base64 of 32 bytes (an Ed25519 key)")
    return raw


def new_private_key() -> str:
    return base64.b64encode(_raw_private(Ed25519PrivateKey.generate())).decode()


def load_private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_decode_key(text, "SERVICE_SIGNING_KEY"))


def public_key_of(private_key: str) -> str:
    return base64.b64encode(_raw_public(load_private_key(private_key).public_key())).decode()


def dev_private_key(name: str) -> str:
    """A well-known key for dev only (anyone can derive it): refused outside dev."""
    return base64.b64encode(hashlib.sha256(f"engage-dev-only:{name}".encode()).digest()).decode()


def dev_public_keys() -> str:
    return format_public_keys({name: public_key_of(dev_private_key(name))
                               for name in SERVICE_NAMES})


def format_public_keys(keys: dict[str, str]) -> str:
    return ",".join(f"{name}:{key}" for name, key in keys.items())


def parse_public_keys(text: str) -> dict[str, str]:
    """`gateway:BASE64,profiles:BASE64,...` (commas or whitespace between entries)."""
    keys: dict[str, str] = {}
    for entry in text.replace(",", " ").split():
        name, sep, key = entry.partition(":")
        if not sep or not name or not key:
            raise ValueError(f"SERVICE_PUBLIC_KEYS entry {entry[:20]!r}... is not 'name:base64key'")
        _decode_key(key, f"SERVICE_PUBLIC_KEYS entry {name!r}")
        keys[name] = key.strip()
    return keys


def is_dev_key(public_key: str) -> bool:
    return public_key in {public_key_of(dev_private_key(name)) for name in SERVICE_NAMES}


# ---- signing and verifying -----------------------------------------------------------------------
class ServiceKeys:
    """One service's view: its own signing key (if it calls others) and everyone's public keys."""

    def __init__(self, *, name: str, private_key: str | None, public_keys: dict[str, str],
                 ttl_s: int = TOKEN_TTL_S):
        self.name, self.ttl_s = name, ttl_s
        self._private = load_private_key(private_key) if private_key else None
        self._public = {caller: Ed25519PublicKey.from_public_bytes(_decode_key(key, caller))
                        for caller, key in public_keys.items()}
        self._cached: dict[str, tuple[float, str]] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> "ServiceKeys":
        """From CommonSettings (`service_name`, `service_signing_key`, `service_public_keys`)."""
        signing = settings.service_signing_key
        return cls(name=settings.service_name,
                   private_key=signing.get_secret_value() if signing else None,
                   public_keys=parse_public_keys(settings.service_public_keys))

    # -- signing
    def _sign(self, claims: dict[str, Any], *, audience: str | list[str],
              ttl_s: int | None = None) -> str:
        if self._private is None:
            raise RuntimeError(f"{self.name} has no SERVICE_SIGNING_KEY: it cannot call services")
        now = int(time.time())
        return jwt.encode({**claims, "iss": self.name, "aud": audience, "iat": now,
                           "exp": now + (self.ttl_s if ttl_s is None else ttl_s)},
                          self._private, algorithm=ALGORITHM)

    def caller_headers(self, *, audience: str) -> dict[str, str]:
        """This service's credential for calling `audience` (reused for half its lifetime)."""
        now = time.monotonic()
        cached = self._cached.get(audience)
        if cached is None or cached[0] < now:
            token = self._sign({"use": USE_SERVICE}, audience=audience)
            cached = self._cached[audience] = (now + self.ttl_s / 2, token)
        return {CALLER_HEADER: cached[1]}

    def identity_headers(self, identity: Identity, *, audience: str | list[str],
                         ttl_s: int | None = None) -> dict[str, str]:
        """The gateway: the user's verified identity, for one service (tests sign for several)."""
        token = self._sign({"use": USE_IDENTITY, "sub": identity.sub, "tenant": identity.tenant,
                            "roles": sorted(identity.roles)}, audience=audience, ttl_s=ttl_s)
        return {IDENTITY_HEADER: token}

    # -- verifying
    def _decode(self, token: str, *, use: str, audiences: Iterable[str],
                issuer: str | None = None) -> dict[str, Any]:
        try:
            claimed = jwt.decode(token, options={"verify_signature": False})
            caller = claimed.get("iss")
            if issuer is not None and caller != issuer:
                raise InvalidServiceToken(f"it was not signed by the {issuer}")
            key = self._public.get(caller) if isinstance(caller, str) else None
            if key is None:
                raise InvalidServiceToken(f"its issuer {str(caller)[:40]!r} is not a known service")
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=list(audiences),
                                leeway=LEEWAY_S,
                                options={"require": ["iss", "aud", "iat", "exp", "use"]})
        except jwt.ExpiredSignatureError:
            raise InvalidServiceToken("it has expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidServiceToken(f"it is not addressed to {self.name}") from None
        except jwt.PyJWTError as error:
            raise InvalidServiceToken(f"it is not valid: {error}") from None
        if claims["use"] != use:
            raise InvalidServiceToken(f"it is a {claims['use']!r} token, not a {use!r} token")
        return claims

    def verify_caller(self, token: str) -> str:
        """The name of the service that signed this credential for us."""
        return self._decode(token, use=USE_SERVICE, audiences=[self.name])["iss"]

    def verify_identity(self, token: str) -> Identity:
        """The user's identity, signed by the gateway for us."""
        claims = self._decode(token, use=USE_IDENTITY, audiences=[self.name], issuer=GATEWAY)
        sub, tenant, roles = claims.get("sub"), claims.get("tenant"), claims.get("roles")
        if not (isinstance(sub, str) and sub and isinstance(tenant, str) and tenant
                and isinstance(roles, list)):
            raise InvalidServiceToken("it lacks sub, tenant or roles")
        return Identity(sub=sub, tenant=tenant, roles=frozenset(r for r in roles if r in ROLES))


if __name__ == "__main__":
    private = new_private_key()
    print(f"SERVICE_SIGNING_KEY={private}\n# its entry in SERVICE_PUBLIC_KEYS: "
          f"<service name>:{public_key_of(private)}")
