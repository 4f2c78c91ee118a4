"""Connectors by source code (see `base.Connector`)."""

from apps.datahub.connectors.base import Connector
from apps.datahub.connectors.court import CourtConnector
from apps.datahub.connectors.registry import RegistryConnector
from apps.datahub.connectors.tax import TaxConnector
from apps.datahub.connectors.utility import UtilityConnector

CONNECTORS: dict[str, Connector] = {c.source: c for c in (
    RegistryConnector(), CourtConnector(), TaxConnector(), UtilityConnector())}


def connector_for(source: str) -> Connector:
    return CONNECTORS[source]
