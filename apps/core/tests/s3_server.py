"""A real S3-compatible server on the loopback for the object-storage tests (issue 23).

The server is moto's standalone server (`python -m moto.server`, PyPI package `moto[s3]` with
Flask, pinned in pyproject's dev extras): a separate process speaking the S3 REST API over HTTP,
so the app, its workers and boto3 talk to it exactly as to MinIO or AWS (requests, SigV4
headers, multipart, listings, presigned URLs). MinIO itself ships no package in the registries
this project installs from; moto's server is the most faithful S3 endpoint that does. What it
does not do: check signatures or expiry of presigned URLs (so tests assert the URL is signed and
short-lived, not that the server refuses an old one).

`s3_server` (session) starts it once; `s3_storage` points the default storage at a fresh bucket
for one test and gives the environment a worker subprocess needs to use the same bucket. With
CREDENCE_REQUIRE_SERVICES=1 (CI) a server that cannot start fails the run; elsewhere it skips.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

ACCESS_KEY, SECRET_KEY, REGION = "credence-test", "credence-test-secret", "us-east-1"


def _required() -> bool:
    return (os.environ.get("CI", "").lower() == "true"
            or os.environ.get("CREDENCE_REQUIRE_SERVICES") == "1")


def _unavailable(reason: str):
    if _required():
        pytest.fail(f"CI needs the S3-compatible test server and it did not start: {reason}",
                    pytrace=False)
    pytest.skip(f"object-storage test needs moto's S3 server (pip install -e '.[dev]'): "
                f"{reason}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint URL of a moto S3 server process on 127.0.0.1, for the whole session."""
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        _unavailable(str(exc))
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310
                break
            except OSError as exc:
                if proc.poll() is not None:
                    _unavailable(f"exited with {proc.returncode}")
                if time.monotonic() > deadline:
                    _unavailable(f"no answer on {endpoint} within 30 s ({exc})")
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def s3_options(endpoint: str, bucket: str) -> dict:
    return {"bucket_name": bucket, "endpoint_url": endpoint, "region_name": REGION,
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "addressing_style": "path",
            "signature_version": "s3v4", "default_acl": None, "querystring_auth": True,
            "file_overwrite": False}


class S3Bucket:
    """A test's bucket: a boto3 client on it and the environment for worker processes."""

    def __init__(self, endpoint: str, name: str):
        import boto3

        self.endpoint, self.name = endpoint, name
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                                   aws_access_key_id=ACCESS_KEY,
                                   aws_secret_access_key=SECRET_KEY)

    def stored_keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    @property
    def env(self) -> dict[str, str]:
        return {"S3_BUCKET": self.name, "S3_ENDPOINT_URL": self.endpoint, "S3_REGION": REGION,
                "S3_ACCESS_KEY_ID": ACCESS_KEY, "S3_SECRET_ACCESS_KEY": SECRET_KEY}


@pytest.fixture
def s3_storage(s3_server, settings):
    """The default storage on a fresh bucket of the test server, for one test."""
    bucket = S3Bucket(s3_server, f"credence-{uuid.uuid4().hex[:12]}")
    bucket.client.create_bucket(Bucket=bucket.name)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": s3_options(s3_server, bucket.name)}}
    return bucket
