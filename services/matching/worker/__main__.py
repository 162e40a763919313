from platform_common.http.server import run_service
from services.matching.settings import WorkerSettings
from services.matching.worker.app import create_app

if __name__ == "__main__":
    run_service(WorkerSettings, create_app)
