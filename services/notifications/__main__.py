from platform_common.http.server import run_service
from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings

if __name__ == "__main__":
    run_service(NotificationsSettings, create_app)
