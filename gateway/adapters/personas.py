"""Dev mode only: the demo personas a web client offers for signing in.

The list comes from the deterministic demo plan (deploy/local/demo_data.py), so it exists
before the seed ran; each persona's `actor_id` is filled in from the profiles service once the
seed registered the actor (the persona's `sub` is among its owners), else it stays null.
"""
from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from gateway.ports import ServiceUnavailable, Upstreams
from platform_common.observability import get_logger

log = get_logger(__name__)
ACTOR_TYPE_OF_KIND = {"volunteer": "person", "association": "association", "company": "company"}


def _planned() -> list[dict]:
    # Imported here: the demo plan (and its place data) is only needed in dev mode.
    from deploy.local.demo_data import personas

    return [dict(persona) for persona in personas()]


def with_actor_ids(personas: list[dict], actors: list[dict]) -> list[dict]:
    """Each persona with the id of its actor (owned by its sub, same tenant, expected type)."""
    result = []
    for persona in personas:
        wanted = ACTOR_TYPE_OF_KIND.get(persona["kind"])
        actor = next((a for a in actors if wanted and persona["sub"] in a.get("owners", [])
                      and a.get("tenant") == persona["tenant"] and a.get("type") == wanted), None)
        result.append({**persona, "actor_id": actor["id"] if actor else None})
    return result


async def dev_personas(upstreams: Upstreams, *, headers: dict[str, str]) -> list[dict]:
    personas = await asyncio.to_thread(_planned)
    subs = [p["sub"] for p in personas if p["kind"] in ACTOR_TYPE_OF_KIND]
    actors: list[dict] = []
    try:
        response = await upstreams.request("profiles", "GET", "/internal/owned-actors",
                                           query=urlencode([("sub", s) for s in subs]),
                                           headers=headers, as_service=True)
        if response.ok:
            actors = json.loads(response.body).get("items", [])
        else:
            log.warning("personas_actor_lookup_failed", status=response.status)
    except (ServiceUnavailable, ValueError) as error:
        # The list stays usable for signing in; the actor ids are filled once profiles answers.
        log.warning("personas_actor_lookup_failed", error=str(error))
    return with_actor_ids(personas, actors)
