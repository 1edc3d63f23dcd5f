from tests.support.gateway_fixtures import gateway, gateway_factory, station_token  # noqa: F401
