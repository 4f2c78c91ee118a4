"""Connectors by source code (see `base.Connector`)."""

from apps.datahub.connectors.base import Connector
from apps.datahub.connectors.court import CourtConnector
from apps.datahub.connectors.registry import RegistryConnector

CONNECTORS: dict[str, Connector] = {c.source: c for c in (RegistryConnector(), CourtConnector())}


def connector_for(source: str) -> Connector:
    return CONNECTORS[source]
