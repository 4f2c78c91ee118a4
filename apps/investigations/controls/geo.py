"""Great-circle distance for the site-visit controls (photo and check-in geofence, §3.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

# IUGG mean Earth radius. Haversine on a sphere is within ~0.5% of the ellipsoid, far below
# phone GPS error and the 500 m geofence.
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1, lng1, lat2, lng2) -> float:
    """Distance in metres between two WGS-84 positions given in degrees."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lng2) - float(lng1))
    a = (math.sin(d_phi / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Site:
    """Where the visit should have happened, and how we know it."""

    lat: Decimal
    lng: Decimal
    basis: str   # "operating_address" | "check_ins"


def metres(distance: float) -> str:
    return f"{distance:,.0f}"
