"""The journeys bench_load.py drives (issue #23, bench 1): an account manager taking a new file
in and filling an investigation on site, and an approver working the inbox, through the HTTP API.

Each request's `name` is the step the report prints. The plan (tokens and ids prepared by
bench_load.py) comes from the JSON file named by BENCH_LOAD_PLAN.
"""

import itertools
import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8"))
_investigations = itertools.cycle(PLAN["investigations"])
BARE = "bare: GET /api/v1/me/"


def _ok(response, *codes):
    """Fail the sample (and so the bench) on any status the journey does not expect."""
    if response.status_code not in codes:
        response.failure(f"{response.status_code}: {response.text[:200]}")
        return False
    response.success()
    return True


class AccountManager(HttpUser):
    """Takes a new file in (create, read, submit, list) and autosaves answers on site."""

    weight = 3
    wait_time = between(0.2, 0.6)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {PLAN['tokens']['account_manager']}"
        self.investigation = next(_investigations)

    @task
    def journey(self):
        with self.client.get("/api/v1/me/", name=BARE, catch_response=True) as r:
            _ok(r, 200)
        with self.client.post("/api/v1/applications/", json=PLAN["new_application"],
                              name="am: create application", catch_response=True) as r:
            if not _ok(r, 201):
                return
            application_id = r.json()["id"]
        with self.client.get(f"/api/v1/applications/{application_id}/",
                             name="am: read application", catch_response=True) as r:
            _ok(r, 200)
        with self.client.post(f"/api/v1/applications/{application_id}/submit/", json={},
                              name="am: submit application", catch_response=True) as r:
            _ok(r, 200)
        with self.client.get("/api/v1/applications/?state=submitted",
                             name="am: list applications", catch_response=True) as r:
            _ok(r, 200)
        url = f"/api/v1/investigations/{self.investigation}/"
        with self.client.get(url, name="am: read investigation form",
                             catch_response=True) as r:
            if not _ok(r, 200):
                return
            item = next(i for s in r.json()["sections"] for i in s["items"]
                        if i["code"] == PLAN["answer_item"])
            version = (item["answer"] or {}).get("version")
        value = str(random.randrange(1_000_000, 9_000_000))
        with self.client.put(f"{url}answers/{PLAN['answer_item']}/",
                             json={"value": value, "expected_version": version},
                             name="am: autosave answer", catch_response=True) as r:
            _ok(r, 200)


class Approver(HttpUser):
    """Opens the inbox, then a waiting file and its route."""

    weight = 1
    wait_time = between(0.2, 0.6)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {PLAN['tokens']['approver']}"

    @task
    def journey(self):
        with self.client.get("/api/v1/me/", name=BARE, catch_response=True) as r:
            _ok(r, 200)
        with self.client.get("/api/v1/approvals/inbox/", name="approver: inbox",
                             catch_response=True) as r:
            if not _ok(r, 200) or not r.json()["results"]:
                return
            application_id = random.choice(r.json()["results"])["application_id"]
        with self.client.get(f"/api/v1/applications/{application_id}/",
                             name="approver: read application", catch_response=True) as r:
            _ok(r, 200)
        with self.client.get(f"/api/v1/approvals/applications/{application_id}/route/",
                             name="approver: read route", catch_response=True) as r:
            _ok(r, 200)
