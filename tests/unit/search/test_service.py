"""The service functions over a recording stub of the index: event dispatch and the domain
errors the API answers with."""
import pytest

from platform_common.events import make_event, read_event
from platform_common.events.models import ActorErasedData
from platform_common.errors import BadRequest, InvalidInput, Unavailable
from platform_common.identity import Identity
from platform_common.kafka import ConsumedEvent
from services.search import service
from services.search.domain.cursor import encode_cursor
from services.search.ports import IndexUnavailable, QueryRejected
from services.search.domain.query import SearchParams
from tests.unit.search.factories import actor, item, tenant


class FakeIndex:
    def __init__(self, *, reject: bool = False, down: bool = False):
        self.calls: list[tuple] = []
        self.reject, self.down = reject, down

    async def put_tenant(self, data):
        self.calls.append(("tenant", data.id))

    async def put_actor(self, data, *, changed_at):
        self.calls.append(("actor", data.id, changed_at))

    async def erase_actor(self, data):
        self.calls.append(("erase", data.id))

    async def put_item(self, data, *, event_type):
        self.calls.append(("item", data.id, event_type))

    async def put_items(self, items):
        self.calls.append(("items", tuple((data.id, event_type) for data, event_type in items)))

    async def analyze(self, text):
        self.calls.append(("analyze", text))
        return [word.lower() for word in text.split()]

    async def search(self, *, kinds, body):
        self.calls.append(("search", kinds, body))
        if self.down:
            raise IndexUnavailable("connection refused")
        if self.reject:
            raise QueryRejected("search_after does not fit")
        return {"hits": {"hits": [], "total": {"value": 0}},
                "aggregations": {"tenant": {"buckets": [{"key": "t1", "doc_count": 0}]}}}

    async def tenant_names(self, tenant_ids):
        self.calls.append(("names", tuple(tenant_ids)))
        return {"t1": "Eins"}


def consumed(name, data, *, tenant_id="duesseldorf", subject="x"):
    envelope, payload = read_event(make_event(name, tenant=tenant_id, subject=subject,
                                              source="test", data=data))
    return ConsumedEvent(envelope, payload, "topic", 0, 0, subject)


async def test_events_reach_the_right_index_operation():
    index = FakeIndex()
    need = item(item_id="n-1")
    a = actor("a-1")
    await service.apply_event(index=index, event=consumed("tenant.updated", tenant()))
    await service.apply_event(index=index, event=consumed("actor.registered", a))
    await service.apply_event(index=index, event=consumed("need.closed", need))
    await service.apply_event(index=index, event=consumed(
        "actor.erased", ActorErasedData(id="a-1", tenant="duesseldorf", version=3)))
    await service.apply_event(index=index, event=consumed("match.found", {
        "offer": {"id": "o", "actor_id": "a", "tenant": "t", "title": "x"},
        "need": {"id": "n", "actor_id": "b", "tenant": "t", "title": "y"}, "score": 0.5}))
    kinds = [call[0] for call in index.calls]
    assert kinds == ["tenant", "actor", "item", "erase"]
    assert index.calls[2] == ("item", "n-1", "need.closed")
    assert index.calls[1][2] is not None  # the event time becomes the actor's change time


async def test_a_batch_writes_runs_of_item_events_together_and_keeps_the_order():
    index = FakeIndex()
    events = [consumed("offer.published", item(item_id="o-1", kind="offer")),
              consumed("need.published", item(item_id="n-1")),
              consumed("actor.erased", ActorErasedData(id="a-1", tenant="duesseldorf", version=3)),
              consumed("need.closed", item(item_id="n-1"))]
    await service.apply_events(index=index, events=events)
    assert index.calls == [("items", (("o-1", "offer.published"), ("n-1", "need.published"))),
                           ("erase", "a-1"),
                           ("items", (("n-1", "need.closed"),))]


async def test_search_passes_viewer_scopes_and_labels_tenants():
    index = FakeIndex()
    member = Identity(sub="u", tenant="t1", roles=frozenset({"member"}))
    page = await service.search(index=index, params=SearchParams(kind="offer"), identity=member)
    _, kinds, body = index.calls[0]
    assert kinds == ("offer",)
    assert {"terms": {"visible_to": ["*", "t1"]}} in body["query"]["bool"]["filter"]
    assert page["facets"]["tenant"][0]["label"]["de"] == "Eins"


async def test_text_is_analyzed_by_the_index_before_searching():
    index = FakeIndex()
    await service.search(index=index, params=SearchParams(q="Garten Hilfe"), identity=None)
    assert index.calls[0] == ("analyze", "Garten Hilfe")
    body = index.calls[1][2]
    assert len(body["query"]["bool"]["must"]) == 2


async def test_invalid_parameters_are_invalid_input_with_fields():
    with pytest.raises(InvalidInput) as caught:
        await service.search(index=FakeIndex(), params=SearchParams(kind="x", lat=1.0),
                             identity=None)
    assert caught.value.code == "validation_error"
    assert {d["field"] for d in caught.value.details} == {"kind", "lon"}
    assert all(d["path"] == [d["field"]] for d in caught.value.details)


async def test_broken_cursor_is_a_bad_request_invalid_cursor():
    with pytest.raises(BadRequest) as caught:
        await service.search(index=FakeIndex(), params=SearchParams(cursor="@@@"), identity=None)
    assert caught.value.code == "invalid_cursor"
    assert caught.value.details[0]["field"] == "cursor"


async def test_cursor_the_engine_rejects_is_an_invalid_cursor_too():
    cursor = encode_cursor(sort="date", after=[1, "x"])
    with pytest.raises(BadRequest) as caught:
        await service.search(index=FakeIndex(reject=True), params=SearchParams(cursor=cursor),
                             identity=None)
    assert caught.value.code == "invalid_cursor"


async def test_search_engine_down_is_unavailable():
    with pytest.raises(Unavailable) as caught:
        await service.search(index=FakeIndex(down=True), params=SearchParams(), identity=None)
    assert caught.value.code == "search_unavailable"
