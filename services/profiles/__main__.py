from platform_common.http.server import run_service
from services.profiles.app import create_app
from services.profiles.settings import ProfilesSettings

if __name__ == "__main__":
    run_service(ProfilesSettings, create_app)
