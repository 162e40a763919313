"""The in-memory fakes keep the ports' contracts: the same suites run against the MongoDB and
Redis adapters in tests/integration/notifications/test_port_contracts.py."""
from __future__ import annotations

import pytest

from tests.contract.ports.notifications_deliveries import DeliveryStoreContract
from tests.contract.ports.notifications_engagements import EngagementStoreContract
from tests.contract.ports.notifications_match_history import MatchHistoryContract
from tests.contract.ports.notifications_notifications import NotificationStoreContract
from tests.contract.ports.notifications_preferences import PreferenceStoreContract
from tests.contract.ports.notifications_recipients import RecipientStoreContract
from tests.contract.ports.notifications_reminders import ReminderStoreContract
from tests.contract.ports.notifications_window_counter import WindowCounterContract
from tests.unit.notifications import fakes


class TestMemoryRecipients(RecipientStoreContract):
    @pytest.fixture
    def recipients(self):
        return fakes.Recipients()


class TestMemoryPreferences(PreferenceStoreContract):
    @pytest.fixture
    def preferences(self):
        return fakes.PreferenceStore()


class TestMemoryNotifications(NotificationStoreContract):
    @pytest.fixture
    def notifications(self):
        return fakes.Notifications()


class TestMemoryDeliveries(DeliveryStoreContract):
    @pytest.fixture
    def deliveries(self):
        return fakes.Deliveries()


class TestMemoryMatchHistory(MatchHistoryContract):
    @pytest.fixture
    def match_history(self):
        return fakes.MatchHistory()


class TestMemoryWindowCounter(WindowCounterContract):
    @pytest.fixture
    def counter(self):
        return fakes.Counter()


class TestMemoryEngagements(EngagementStoreContract):
    @pytest.fixture
    def engagements(self):
        return fakes.Engagements()


class TestMemoryReminders(ReminderStoreContract):
    @pytest.fixture
    def reminders(self):
        return fakes.Reminders()
