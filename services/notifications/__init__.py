"""Notifications: tells actors about matches and contact requests by in-app inbox, e-mail and
webhook, following their preferences, exactly once per recipient and event (see README.md)."""
