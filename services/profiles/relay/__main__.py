from platform_common.http.server import run_service
from services.profiles.relay.app import create_relay_app
from services.profiles.settings import RelaySettings

if __name__ == "__main__":
    run_service(RelaySettings, create_relay_app)
