from gateway.app import create_app
from gateway.settings import GatewaySettings
from platform_common.http.server import run_service

run_service(GatewaySettings, create_app)
