"""Search service: the read model of offers, needs and actors in Elasticsearch.

It consumes the `tenants`, `actors` and `items` topics into versioned indexes behind aliases and
answers radius, filter and text searches with facets and cursor pagination.
"""
