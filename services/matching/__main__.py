from platform_common.http.server import run_service
from services.matching.app import create_app
from services.matching.settings import MatchingSettings

if __name__ == "__main__":
    run_service(MatchingSettings, create_app)
