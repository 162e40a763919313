"""The notifications app: the HTTP API over the process that bootstrap.py builds (its event
consumer, background senders and periodic tasks start and stop with it)."""
from __future__ import annotations

from fastapi import FastAPI

from platform_common.http import create_process_app
from services.notifications.api import router
from services.notifications.bootstrap import build_notifications
from services.notifications.settings import NotificationsSettings


def create_app(settings: NotificationsSettings) -> FastAPI:
    return create_process_app(settings=settings, title="Notifications",
                              build=lambda: build_notifications(settings), routers=[router])
