"""The OpenAPI schema generates, validates, and raises no drf-spectacular warning."""

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_is_valid_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    submit = paths["/api/v1/applications/{application_id}/submit/"]["post"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(submit["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in submit["parameters"])
    for path in ("/api/v1/enterprises/", "/api/v1/enterprises/{enterprise_id}/eligibility/",
                 "/api/v1/products/", "/api/v1/applications/{application_id}/"):
        assert path in paths
