"""Pure domain of the profiles service: request validation, records, rules. No I/O here."""
