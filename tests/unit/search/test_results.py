"""Raw hits and aggregations become the API response."""
from services.search.domain.cursor import decode_cursor
from services.search.domain.query import SearchParams, validate_search
from services.search.domain.results import present_facets, present_page


def raw(hits, *, total=None, aggregations=None):
    return {"hits": {"hits": hits, "total": {"value": total if total is not None else len(hits)}},
            "aggregations": aggregations or {}}


def hit(item_id, *, lat=51.0, lon=7.0, sort=None, description=""):
    return {"_id": item_id, "sort": sort or [0.0, item_id], "_source": {
        "id": item_id, "kind": "need", "title": f"Titel {item_id}", "description": description,
        "categories": ["social"], "engagement": "regular", "actor_type": "association",
        "tenant": "t1", "place_name": "Ort", "location": {"lat": lat, "lon": lon},
        "remote": False, "updated_at": "2025-05-01T12:00:00+00:00"}}


def test_next_cursor_only_when_another_page_follows():
    query = validate_search(SearchParams(lat=51.0, lon=7.0, limit=2))
    page = present_page(raw([hit("a", sort=[0.0, "a"]), hit("b", sort=[1.5, "b"]),
                             hit("c", sort=[2.0, "c"])], total=3), query=query, tenant_names={})
    assert [i["id"] for i in page["items"]] == ["a", "b"]
    assert decode_cursor(page["next_cursor"], sort="distance") == [1.5, "b"]
    assert page["total"] == 3

    last = present_page(raw([hit("c")], total=3), query=query, tenant_names={})
    assert last["next_cursor"] is None


def test_distance_in_km_with_two_decimals_only_with_a_point():
    with_point = validate_search(SearchParams(lat=51.0, lon=7.0))
    item = present_page(raw([hit("a", lat=51.1)]), query=with_point, tenant_names={})["items"][0]
    assert item["distance_km"] == 11.12
    without = validate_search(SearchParams())
    assert present_page(raw([hit("a")]), query=without, tenant_names={})["items"][0][
        "distance_km"] is None


def test_description_is_cut_to_300_characters():
    query = validate_search(SearchParams())
    item = present_page(raw([hit("a", description="x" * 1000)]), query=query,
                        tenant_names={})["items"][0]
    assert len(item["description"]) == 300


def test_facets_have_labels_and_are_ordered_by_count():
    facets = present_facets({
        "category": {"buckets": [{"key": "sport", "doc_count": 1},
                                 {"key": "social", "doc_count": 4},
                                 {"key": "animals", "doc_count": 1}]},
        "engagement": {"buckets": [{"key": "regular", "doc_count": 2}]},
        "actor_type": {"buckets": [{"key": "company", "doc_count": 2}]},
        "tenant": {"buckets": [{"key": "t1", "doc_count": 5}, {"key": "t9", "doc_count": 1}]},
    }, tenant_names={"t1": "Düsseldorf"})
    assert [f["value"] for f in facets["category"]] == ["social", "animals", "sport"]
    assert facets["category"][0] == {"value": "social", "count": 4,
                                     "label": {"de": "Soziales", "en": "Social welfare"}}
    assert facets["engagement"][0]["label"]["de"] == "Regelmäßig"
    assert facets["actor_type"][0]["label"]["de"] == "Unternehmen"
    assert facets["tenant"][0]["label"] == {"de": "Düsseldorf", "en": "Düsseldorf"}
    assert facets["tenant"][1]["label"] == {"de": "t9", "en": "t9"}


def test_missing_aggregations_give_empty_facets():
    assert present_facets({}, tenant_names={}) == {
        "category": [], "engagement": [], "actor_type": [], "tenant": []}


def test_a_persons_hit_shows_the_coarse_point_and_a_whole_km_distance():
    # Also when the index still holds an exact point (written before the rule, before reindex).
    query = validate_search(SearchParams(lat=50.9412345, lon=6.9587654, radius_km=0.05))
    person = hit("p", lat=50.9412345, lon=6.9587654)
    person["_source"]["actor_type"] = "person"
    shown = present_page(raw([person]), query=query, tenant_names={})["items"][0]
    assert shown["location"] == {"lat": 50.94, "lon": 6.96}
    assert shown["distance_km"] == 1.0  # "within 1 km", not 0.0
    far = validate_search(SearchParams(lat=51.0, lon=6.96))
    assert present_page(raw([person]), query=far, tenant_names={})["items"][0][
        "distance_km"] == 7.0  # 6.67 km from the coarse point, rounded up
