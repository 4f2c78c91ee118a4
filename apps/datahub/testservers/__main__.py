"""`python -m apps.datahub.testservers`: the stand-ins (registry, court, tax, utility, credit
bureau) on the loopback at `DEMO_PORTS` for a demo; prints the environment variables that
point the hub at them. `make run` starts it as a child process. Ctrl-C / SIGTERM stops."""

import signal
import sys
import time

from apps.datahub.testservers import DEMO_PORTS, demo_services
from apps.datahub.testservers.base import LoopbackServer


def main() -> int:
    servers = {name: LoopbackServer(service, DEMO_PORTS[name]).start()
               for name, service in demo_services().items()}
    for name, server in servers.items():
        print(f"DATAHUB_{name.upper()}_URL={server.url}", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for server in servers.values():
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
