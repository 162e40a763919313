"""The public entry of the platform: auth, roles, rate limits, routing, one OpenAPI, the web UI."""
