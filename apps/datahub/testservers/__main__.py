"""`python -m apps.datahub.testservers [registry_port court_port]`: both stand-ins on the
loopback for the demo (`make run`); prints the environment variables that point the hub at
them. Ctrl-C stops."""

import sys
import time

from apps.datahub.testservers.base import LoopbackServer
from apps.datahub.testservers.court import CourtService
from apps.datahub.testservers.registry import RegistryService

if __name__ == "__main__":
    ports = [int(p) for p in sys.argv[1:3]] or [8701, 8702]
    registry = LoopbackServer(RegistryService(), ports[0]).start()
    court = LoopbackServer(CourtService(), ports[1]).start()
    print(f"DATAHUB_REGISTRY_URL={registry.url}\nDATAHUB_COURT_URL={court.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        registry.stop()
        court.stop()
