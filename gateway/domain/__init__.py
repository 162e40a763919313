"""Pure gateway rules: tokens and claims, access, route map, rate-limit windows, OpenAPI merge."""
