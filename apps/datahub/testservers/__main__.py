"""`python -m apps.datahub.testservers`: the stand-ins (registry, court, tax, utility, credit
bureau) on the loopback at `DEMO_PORTS` for a demo; prints the environment variables that
point the hub at them. `make run` starts it as a child process. Ctrl-C / SIGTERM stops.
`DATAHUB_DEMO_FACTS`: the file `manage.py seed_demo --datahub-facts` wrote, so the tax bureau
answers each demo firm's grade and sales as seeded. `--any-ports`: free ports instead of
`DEMO_PORTS` (the test that starts this entry point, beside a demo already running)."""

import os
import signal
import sys
import time

from apps.datahub.testservers import DEMO_PORTS, demo_services
from apps.datahub.testservers.base import LoopbackServer


def main() -> int:
    any_ports = "--any-ports" in sys.argv[1:]
    services = demo_services()
    facts = os.environ.get("DATAHUB_DEMO_FACTS", "")
    if facts and os.path.exists(facts):
        # The demo's firms as seeded: the tax bureau answers each one's grade and sales.
        print(f"tax: {services['tax'].load_taxpayers(facts)} demo taxpayers", flush=True)
    servers = {name: LoopbackServer(service, 0 if any_ports else DEMO_PORTS[name]).start()
               for name, service in services.items()}
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
