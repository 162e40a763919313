"""The real adapters: MongoDB, Redis, SMTP, HTTP webhooks."""
