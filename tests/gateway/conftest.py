from tests.support.gateway_fixtures import gateway, gateway_factory, station_token

__all__ = ["gateway", "gateway_factory", "station_token"]
