"""`python -m apps.datahub.testservers [ports…]`: the stand-ins (registry, court, tax,
utility) on the loopback for a demo; prints the environment variables that point the hub at
them. Ctrl-C stops."""

import sys
import time

from apps.datahub.testservers.base import LoopbackServer
from apps.datahub.testservers.court import CourtService
from apps.datahub.testservers.registry import RegistryService
from apps.datahub.testservers.tax import TaxService, UtilityService

if __name__ == "__main__":
    ports = [int(p) for p in sys.argv[1:5]] or [8701, 8702, 8703, 8704]
    services = {"registry": RegistryService(), "court": CourtService(), "tax": TaxService(),
                "utility": UtilityService()}
    servers = {name: LoopbackServer(service, port).start()
               for (name, service), port in zip(services.items(), ports, strict=False)}
    for name, server in servers.items():
        print(f"DATAHUB_{name.upper()}_URL={server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for server in servers.values():
            server.stop()
