from tests.support.gateway_fixtures import gateway, gateway_factory, station_token
from tests.support.s3_server import s3_endpoint

__all__ = ["gateway", "gateway_factory", "s3_endpoint", "station_token"]
