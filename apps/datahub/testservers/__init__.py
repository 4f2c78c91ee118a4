"""The local stand-ins for the outside services (see `base`). `DEMO_PORTS`: where `make run`
(scripts/run_local.py) and `python -m apps.datahub.testservers` put each one on the loopback."""

DEMO_PORTS = {"registry": 8701, "court": 8702, "tax": 8703, "utility": 8704, "bureau": 8705}


def demo_services() -> dict:
    """source → a fresh stand-in service (stdlib only: no Django needed)."""
    from apps.datahub.testservers.bureau import BureauService
    from apps.datahub.testservers.court import CourtService
    from apps.datahub.testservers.registry import RegistryService
    from apps.datahub.testservers.tax import TaxService, UtilityService

    return {"registry": RegistryService(), "court": CourtService(), "tax": TaxService(),
            "utility": UtilityService(), "bureau": BureauService()}


def demo_env() -> dict[str, str]:
    """The environment variables that point the hub at the demo stand-ins."""
    return {f"DATAHUB_{name.upper()}_URL": f"http://127.0.0.1:{port}"
            for name, port in DEMO_PORTS.items()}
