from gateway.openapi import merge_components, merge_openapi
from gateway.domain.routes import PROXY_ROUTES


def item_schema(title: str) -> dict:
    return {"type": "object", "title": title}


def service_doc(path: str, method: str = "get", item_title: str = "Item") -> dict:
    return {
        "openapi": "3.1.0", "info": {"title": "s", "version": "1"},
        "paths": {path: {method: {
            "summary": "from the service",
            "parameters": [{"name": "offer_id", "in": "path", "required": True,
                            "schema": {"type": "string"}},
                           {"name": "X-Auth-Tenant", "in": "header",
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Page"}}}}}}},
            "/internal/reindex": {"post": {"responses": {}}}},
        "components": {"schemas": {
            "Item": item_schema(item_title),
            "Page": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
            "HTTPValidationError": {"type": "object"}}},
    }


def merged(services: dict) -> dict:
    own = {"paths": {"/api/v1/categories": {"get": {"security": []}}},
           "components": {"schemas": {"HTTPValidationError": {"type": "object"}}}}
    return merge_openapi(own=own, services=services, routes=PROXY_ROUTES, title="API",
                         version="1")


def test_service_paths_appear_under_the_public_prefix_with_gateway_parameter_names():
    document = merged({"profiles": service_doc("/offers/{offer_id}")})
    operation = document["paths"]["/api/v1/offers/{id}"]["get"]
    assert operation["summary"] == "from the service"
    assert [p["name"] for p in operation["parameters"]] == ["id"], "identity headers are hidden"
    assert operation["security"] == []
    assert "/api/v1/internal/reindex" not in document["paths"]
    assert "/internal/reindex" not in document["paths"]


def test_protected_routes_carry_the_bearer_scheme():
    document = merged({"profiles": service_doc("/offers/{offer_id}")})
    assert document["paths"]["/api/v1/offers"]["post"]["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_public_route_is_listed_even_when_services_are_down():
    document = merged({"profiles": None, "search": None, "matching": None,
                       "notifications": None})
    for route in PROXY_ROUTES:
        assert route.method.lower() in document["paths"][route.public_path]
    assert document["info"]["x-services-unavailable"] == ["matching", "notifications",
                                                          "profiles", "search"]
    placeholder = document["paths"]["/api/v1/needs/{id}/matches"]["get"]
    assert placeholder["parameters"][0]["name"] == "id"
    assert "/api/v1/categories" in document["paths"]


def test_clashing_schema_names_are_prefixed_and_references_follow():
    document = merged({"profiles": service_doc("/offers/{offer_id}", item_title="Offer"),
                       "search": service_doc("/search", item_title="Hit")})
    schemas = document["components"]["schemas"]
    assert schemas["Item"]["title"] == "Offer"
    assert schemas["search_Item"]["title"] == "Hit"
    # search's Page refers to search's Item, so it differs from profiles' Page and is renamed.
    assert schemas["search_Page"]["properties"]["items"]["items"]["$ref"] == \
        "#/components/schemas/search_Item"
    assert schemas["Page"]["properties"]["items"]["items"]["$ref"] == "#/components/schemas/Item"
    search = document["paths"]["/api/v1/search"]["get"]
    assert search["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == \
        "#/components/schemas/search_Page"
    assert "profiles_HTTPValidationError" not in schemas and "search_HTTPValidationError" \
        not in schemas, "identical schemas are shared, not duplicated"


def test_merge_components_keeps_identical_schemas_once():
    components: dict = {}
    merge_components(components, {"components": {"schemas": {"A": {"type": "string"}}}}, "x")
    merge_components(components, {"components": {"schemas": {"A": {"type": "string"}}}}, "y")
    assert components == {"schemas": {"A": {"type": "string"}}}
