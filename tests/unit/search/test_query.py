"""Validation of search parameters and the Elasticsearch query they become."""
from datetime import datetime, timezone

import pytest

from services.search.domain.cursor import encode_cursor
from services.search.domain.query import (
    InvalidSearch, InvalidSearchCursor, SearchParams, search_body, validate_search,
)

NOW = datetime(2025, 5, 1, 12, tzinfo=timezone.utc)


def problems(**params) -> dict[str, str]:
    with pytest.raises(InvalidSearch) as caught:
        validate_search(SearchParams(**params))
    return dict(caught.value.problems)


def body_for(scopes=("*",), **params) -> dict:
    query = validate_search(SearchParams(**params))
    return search_body(query, scopes=list(scopes) if scopes is not None else None, now=NOW)


def filter_clauses(body: dict) -> list[dict]:
    return body["query"]["bool"]["filter"]


def test_defaults_search_offers_and_needs_by_date():
    query = validate_search(SearchParams())
    assert query.kinds == ("offer", "need")
    assert query.sort == "date"
    assert query.limit == 20
    assert query.search_after is None


@pytest.mark.parametrize("params, expected", [
    ({"lat": 51.2, "lon": 6.8}, "distance"),
    ({"q": "Garten"}, "relevance"),
    ({"lat": 51.2, "lon": 6.8, "q": "Garten"}, "distance"),
    ({"q": "   "}, "date"),
])
def test_default_sort_follows_what_is_asked(params, expected):
    assert validate_search(SearchParams(**params)).sort == expected


@pytest.mark.parametrize("params, field", [
    ({"kind": "event"}, "kind"),
    ({"lat": 51.0}, "lon"),
    ({"lon": 7.0}, "lat"),
    ({"lat": 91.0, "lon": 7.0}, "lat"),
    ({"lat": 51.0, "lon": -181.0}, "lon"),
    ({"lat": float("nan"), "lon": 7.0}, "lat"),
    ({"lat": 51.0, "lon": 7.0, "radius_km": 0}, "radius_km"),
    ({"lat": 51.0, "lon": 7.0, "radius_km": 500.01}, "radius_km"),
    ({"radius_km": 10}, "radius_km"),
    ({"category": ["social", "knitting"]}, "category"),
    ({"engagement": ["sometimes"]}, "engagement"),
    ({"actor_type": ["robot"]}, "actor_type"),
    ({"remote": "maybe"}, "remote"),
    ({"sort": "price"}, "sort"),
    ({"sort": "distance"}, "sort"),
    ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
    ({"q": "x" * 201}, "q"),
])
def test_invalid_parameters_are_named(params, field):
    found = problems(**params)
    assert field in found, found
    assert found[field]


def test_every_problem_is_reported_at_once_with_field_and_path():
    with pytest.raises(InvalidSearch) as caught:
        validate_search(SearchParams(kind="x", sort="y", limit=1000))
    details = caught.value.details()
    assert {d["field"] for d in details} == {"kind", "sort", "limit"}
    assert all(d["path"] == [d["field"]] and d["message"] for d in details)


def test_radius_500_is_the_upper_bound():
    query = validate_search(SearchParams(lat=51.0, lon=7.0, radius_km=500))
    assert query.radius_km == 500


def test_broken_cursor_is_its_own_error():
    with pytest.raises(InvalidSearchCursor):
        validate_search(SearchParams(cursor="not-a-cursor"))


def test_cursor_of_another_sort_is_rejected():
    cursor = encode_cursor(sort="date", after=[1714560000000, "n-1"])
    with pytest.raises(InvalidSearchCursor):
        validate_search(SearchParams(lat=51.0, lon=7.0, cursor=cursor))


def test_cursor_becomes_search_after():
    cursor = encode_cursor(sort="distance", after=[3.25, "n-1"])
    body = body_for(lat=51.0, lon=7.0, cursor=cursor)
    assert body["search_after"] == [3.25, "n-1"]


def test_radius_search_filters_by_distance_and_sorts_by_exact_distance():
    body = body_for(lat=51.2, lon=6.8, radius_km=10)
    assert {"geo_distance": {"distance": "10km", "location": {"lat": 51.2, "lon": 6.8}}} \
        in filter_clauses(body)
    geo_sort = body["sort"][0]["_geo_distance"]
    assert geo_sort["unit"] == "km" and geo_sort["order"] == "asc"
    assert geo_sort["distance_type"] == "arc"
    assert body["sort"][1] == {"id": "asc"}


def test_point_without_radius_only_sorts():
    body = body_for(lat=51.2, lon=6.8)
    assert not any("geo_distance" in clause for clause in filter_clauses(body))
    assert "_geo_distance" in body["sort"][0]


def test_remote_include_accepts_remote_items_beyond_the_radius():
    body = body_for(lat=51.2, lon=6.8, radius_km=10, remote="include")
    either = [c for c in filter_clauses(body) if "bool" in c and "should" in c["bool"]
              and any("geo_distance" in s for s in c["bool"]["should"])]
    assert either and {"term": {"remote": True}} in either[0]["bool"]["should"]


@pytest.mark.parametrize("mode, clause", [("only", {"term": {"remote": True}}),
                                          ("exclude", {"term": {"remote": False}})])
def test_remote_only_and_exclude(mode, clause):
    assert clause in filter_clauses(body_for(remote=mode))


def test_default_remote_mode_does_not_filter_on_remote():
    body = body_for(lat=51.2, lon=6.8, radius_km=10)
    assert "remote" not in str(filter_clauses(body))


def test_visibility_scopes_filter_unless_operator():
    assert {"terms": {"visible_to": ["*"]}} in filter_clauses(body_for())
    assert {"terms": {"visible_to": ["*", "t1"]}} in filter_clauses(body_for(scopes=("*", "t1")))
    assert "visible_to" not in str(filter_clauses(body_for(scopes=None)))


def test_only_published_and_unexpired_items():
    clauses = filter_clauses(body_for())
    assert {"term": {"status": "published"}} in clauses
    assert NOW.isoformat() in str(clauses)


def test_actor_search_has_no_expiry_clause():
    assert "expires_at" not in str(filter_clauses(body_for(kind="actor")))


def test_facet_filters_are_terms():
    clauses = filter_clauses(body_for(category=["social", "sport", "social"],
                                      engagement=["regular"], actor_type=["company"],
                                      tenant=["duesseldorf"]))
    assert {"terms": {"categories": ["social", "sport"]}} in clauses
    assert {"terms": {"engagement": ["regular"]}} in clauses
    assert {"terms": {"actor_type": ["company"]}} in clauses
    assert {"terms": {"tenant": ["duesseldorf"]}} in clauses


def test_every_word_must_occur_in_some_text_field_title_counting_most():
    query = validate_search(SearchParams(q="Häuser streichen"))
    body = search_body(query, scopes=["*"], now=NOW, text_terms=["haus", "streich", "haus"])
    must = body["query"]["bool"]["must"]
    assert len(must) == 2
    first = must[0]["bool"]
    assert first["minimum_should_match"] == 1
    fields = {name: value for c in first["should"]
              for name, value in c["constant_score"]["filter"]["term"].items()}
    assert fields == {"title": "haus", "skills": "haus", "description": "haus",
                      "place_name": "haus"}
    boosts = {next(iter(c["constant_score"]["filter"]["term"])): c["constant_score"]["boost"]
              for c in first["should"]}
    assert boosts["title"] > boosts["skills"] > boosts["description"]
    assert body["sort"] == [{"_score": "desc"}, {"id": "asc"}]


def test_text_of_stop_words_only_filters_nothing():
    query = validate_search(SearchParams(q="die und"))
    body = search_body(query, scopes=["*"], now=NOW, text_terms=[])
    assert "must" not in body["query"]["bool"]


def test_page_asks_for_one_more_and_counts_and_facets():
    body = body_for(limit=7)
    assert body["size"] == 8
    assert body["track_total_hits"] is True
    assert set(body["aggs"]) == {"category", "engagement", "actor_type", "tenant"}
    assert body["aggs"]["category"]["terms"]["field"] == "categories"


def test_a_tiny_radius_is_written_in_fixed_point():
    """5e-324 is a valid radius, but `5e-324km` is not a distance the engine parses (a 500)."""
    body = body_for(lat=51.2, lon=6.8, radius_km=5e-324)
    assert {"geo_distance": {"distance": "0.000001km", "location": {"lat": 51.2, "lon": 6.8}}} \
        in filter_clauses(body)
    assert {"geo_distance": {"distance": "2.5km", "location": {"lat": 51.2, "lon": 6.8}}} \
        in filter_clauses(body_for(lat=51.2, lon=6.8, radius_km=2.5))
