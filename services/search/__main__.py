from platform_common.http.server import run_service
from services.search.app import create_app
from services.search.settings import SearchSettings

if __name__ == "__main__":
    run_service(SearchSettings, create_app)
