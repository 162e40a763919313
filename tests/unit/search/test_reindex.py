"""The rebuild against a tiny fake export HTTP server and an in-memory rebuild target.

The real alias swap against the search engine and the real profiles service is covered by
tests/integration/search/test_reindex.py.
"""
import httpx
import pytest

from platform_common.service_identity import CALLER_HEADER, new_private_key
from services.search.adapters.profiles_export import ProfilesExport
from services.search.reindex import rebuild_from, summary
from tests.support.identity import keys_as
from tests.unit.search.factories import actor, item, tenant
from tests.unit.search.fake_export import FakeExport
from tests.unit.search.fakes import FakeRebuild


def export_data():
    items = [item(f"o-{i:03d}", kind="offer", visibility="region") for i in range(5)]
    items += [item(f"n-{i:03d}", kind="need") for i in range(3)]
    items.append(item("n-bad", kind="need", lat=95.0))  # not indexable: rejected, not fatal
    return {
        "tenants": [tenant("duesseldorf", neighbours=["neuss"], version=2).model_dump(mode="json")],
        "actors": [actor("a-old").model_dump(mode="json"), actor("a-new").model_dump(mode="json")],
        "offers": [i.model_dump(mode="json") for i in items if i.kind == "offer"],
        "needs": [i.model_dump(mode="json") for i in items if i.kind == "need"],
    }


async def run(export: FakeExport, rebuild: FakeRebuild, page_size: int = 2):
    source = ProfilesExport(export.url, keys=keys_as("search"), page_size=page_size, attempts=3,
                            backoff_s=0.01)
    lines: list[str] = []
    try:
        report = await rebuild_from(source=source, rebuild=rebuild, progress=lines.append)
    finally:
        await source.close()
    return report, lines


async def test_rebuild_loads_everything_page_by_page_then_swaps():
    rebuild = FakeRebuild()
    with FakeExport(export_data()) as export:
        report, lines = await run(export, rebuild)
        offer_requests = [q for path, q, _ in export.requests if path.endswith("/offers")]
        headers = export.requests[0][2]

    assert rebuild.steps == ["begin", "settle", "tombstones", "load:tenants", "load:actors",
                             "load:offers", "load:offers", "load:offers", "load:needs",
                             "load:needs", "sweep", "fix", "swap", "settle", "drop"]
    assert [q.get("after") for q in offer_requests] == [None, "o-001", "o-003"]
    assert all(q["limit"] == "2" for q in offer_requests)
    # The export is internal: search's own credential, addressed to profiles.
    credential = {name.lower(): value for name, value in headers.items()}[CALLER_HEADER.lower()]
    assert keys_as("profiles").verify_caller(credential) == "search"

    counts = report.counts
    assert (counts["tenants"].read, counts["actors"].read, counts["offers"].read) == (1, 2, 5)
    assert counts["needs"].read == 4 and counts["needs"].rejected == 1
    assert len(rebuild.documents["needs"]) == 3
    assert report.dropped_indexes == ["tenants-v1", "actors-v1", "offers-v1", "needs-v1"]
    assert any("offers: 5 read" in line and "/s" in line for line in lines)
    assert "offers" in summary(report)


async def test_rebuilt_documents_are_the_public_read_model():
    rebuild = FakeRebuild()
    with FakeExport(export_data()) as export:
        await run(export, rebuild)
    actors = rebuild.documents["actors"]
    assert "vorstand@tafel.example" not in repr(actors)
    # The export knows no change time for actors: the old index's value is kept.
    assert actors["a-old"]["updated_at"] == "2025-01-02T03:04:05+00:00"
    assert actors["a-new"]["updated_at"] is None
    # Region items get the neighbours of their tenant from the same export.
    assert rebuild.documents["offers"]["o-000"]["visible_to"] == ["duesseldorf", "neuss"]
    assert rebuild.neighbours_used == {"duesseldorf": ["neuss"]}


async def test_newer_live_writes_win_over_the_export():
    rebuild = FakeRebuild()
    live = item("o-002", kind="offer", version=9, title="Schon neuer")
    rebuild.documents["offers"]["o-002"] = {"id": "o-002", "version": live.version,
                                            "title": live.title}
    with FakeExport(export_data()) as export:
        report, _ = await run(export, rebuild)
    assert report.counts["offers"].stale == 1
    assert rebuild.documents["offers"]["o-002"]["title"] == "Schon neuer"


async def test_transient_export_errors_are_retried():
    rebuild = FakeRebuild()
    with FakeExport(export_data(), failures_first=2) as export:
        report, _ = await run(export, rebuild, page_size=1000)
    assert report.counts["offers"].read == 5
    assert rebuild.steps[-1] == "drop"


async def test_a_failing_export_aborts_and_keeps_the_old_indexes():
    rebuild = FakeRebuild()
    data = export_data()
    del data["needs"]  # the fake answers 404 for it
    with FakeExport(data) as export:
        with pytest.raises(httpx.HTTPStatusError):
            await run(export, rebuild)
    assert "swap" not in rebuild.steps and "drop" not in rebuild.steps
    assert rebuild.steps[-1] == "abort"


async def test_a_rebuild_writes_persons_points_coarse():
    """An index from before the privacy rule holds exact homes: `make reindex` coarsens them."""
    rebuild = FakeRebuild()
    data = export_data()
    home = {"lat": 51.2212345, "lon": 6.7787654}
    person = actor("a-person", type_="person").model_dump(mode="json")
    data["actors"].append({**person, "location": home})
    data["offers"].append(item("o-person", kind="offer", actor_type="person",
                               lat=home["lat"], lon=home["lon"]).model_dump(mode="json"))
    with FakeExport(data) as export:
        await run(export, rebuild)
    assert rebuild.documents["actors"]["a-person"]["location"] == {"lat": 51.22, "lon": 6.78}
    assert rebuild.documents["offers"]["o-person"]["location"] == {"lat": 51.22, "lon": 6.78}
    assert rebuild.documents["offers"]["o-000"]["location"] == {"lat": 51.2277, "lon": 6.7735}


REFUSED = (401, "invalid_token", "The service credential (X-Service-Token) was refused: it is "
                                 "not valid: Signature verification failed")


def test_refused_keys_end_the_command_with_a_short_message_and_no_traceback(monkeypatch, capsys):
    """`make reindex` without this run's keys (the dev key stands in) or with another run's."""
    from services.search import reindex as command

    for name in ("SERVICE_SIGNING_KEY", "SERVICE_PUBLIC_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENVIRONMENT", "dev")
    # Nothing listens there: the refusal must come before the search engine is touched.
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9")
    with FakeExport(export_data(), refuse=REFUSED) as export:
        code = command.main(["--profiles-url", export.url])
    assert code == 1
    assert len(export.requests) == 1  # a refusal is not retried
    err = capsys.readouterr().err
    assert "Traceback" not in err
    first, hint = err.strip().split("\n")
    assert first.startswith("reindex failed: profiles refused search's service credential "
                            "(401 invalid_token:")
    assert "SERVICE_SIGNING_KEY is not set" in first
    assert "SERVICE_SIGNING_KEY" in hint and ".data/reindex.env" in hint

    # Keys that are set but not the running stack's: the same message without the dev note.
    monkeypatch.setenv("SERVICE_SIGNING_KEY", new_private_key())
    with FakeExport(export_data(), refuse=(403, "forbidden", "no")) as export:
        assert command.main(["--profiles-url", export.url]) == 1
    err = capsys.readouterr().err
    assert "403 forbidden" in err and "not set" not in err and ".data/reindex.env" in err
