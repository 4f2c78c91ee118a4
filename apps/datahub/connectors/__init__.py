"""Connectors by source code (see `base.Connector`)."""

from apps.datahub.connectors.base import Connector
from apps.datahub.connectors.bureau import BureauConnector
from apps.datahub.connectors.court import CourtConnector
from apps.datahub.connectors.registry import RegistryConnector
from apps.datahub.connectors.tax import TaxConnector
from apps.datahub.connectors.utility import UtilityConnector

CONNECTORS: dict[str, Connector] = {c.source: c for c in (
    RegistryConnector(), CourtConnector(), TaxConnector(), UtilityConnector(),
    BureauConnector())}

# Sources that answer about a person around the enterprise as well (guarantors, the legal
# representative …), each person with a consent of their own.
PERSON_SOURCES = frozenset(c.source for c in CONNECTORS.values()
                           if getattr(c, "person_subjects", False))


def connector_for(source: str) -> Connector:
    return CONNECTORS[source]
