"""A scheduler elsewhere is reached over TLS with certificates, as README "Scaling out" says.

The test makes a CA and a certificate, starts a real ``dask scheduler --protocol tls`` and a
``dask worker`` with them, and runs work through ``dask_client`` with the config's TLS files; a
client without a certificate is not let in.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from distributed import Client
from distributed.security import Security

from pipelines.runtime.cluster import dask_client, map_partitions
from pipelines.runtime.config import DaskConfig

pytestmark = pytest.mark.slow
STARTUP_S = 60


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(folder: Path) -> dict[str, str]:
    """A CA, and one certificate it signed for the scheduler, workers and client (PEM files)."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(_name("test CA")).issuer_name(_name("test CA"))
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(2)
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    files = {"tls_ca_file": folder / "ca.pem", "tls_cert": folder / "cert.pem",
             "tls_key": folder / "key.pem"}  # fmt: skip
    files["tls_ca_file"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["tls_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["tls_key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {k: str(v) for k, v in files.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    files = make_certificates(folder)
    flags = ["--tls-ca-file", files["tls_ca_file"], "--tls-cert", files["tls_cert"],
             "--tls-key", files["tls_key"]]  # fmt: skip
    address = f"tls://127.0.0.1:{free_port()}"
    dask = str(Path(sys.executable).parent / "dask")
    logs = [open(folder / name, "wb") for name in ("scheduler.log", "worker.log")]  # noqa: SIM115
    commands = [
        [dask, "scheduler", "--protocol", "tls", "--host", "127.0.0.1",
         "--port", address.rsplit(":", 1)[1], "--no-dashboard", *flags],
        [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard", *flags],
    ]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for cmd, log in zip(commands, logs, strict=True)
    ]
    try:
        settings = DaskConfig(scheduler=address, **files)
        deadline = time.monotonic() + STARTUP_S
        while True:  # until the worker has joined
            try:
                with dask_client(settings) as client:
                    if client.nthreads():
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail((folder / "scheduler.log").read_text()[-2000:])
            time.sleep(1)
        yield settings
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
        for log in logs:
            log.close()


def test_the_client_works_through_tls_with_its_certificate(tls_cluster):
    with dask_client(tls_cluster) as client:
        assert map_partitions(client, int, ["3", "1", "2"]) == [3, 1, 2]


def test_a_client_without_a_certificate_is_not_let_in(tls_cluster):
    plain = tls_cluster.scheduler.replace("tls://", "tcp://")
    with pytest.raises((OSError, TimeoutError)):
        Client(plain, timeout=3)


def test_a_client_whose_certificate_another_ca_signed_is_not_let_in(tls_cluster, tmp_path):
    stranger = make_certificates(tmp_path)
    security = Security(
        tls_ca_file=tls_cluster.tls_ca_file,  # it trusts the cluster, the cluster not it
        tls_client_cert=stranger["tls_cert"],
        tls_client_key=stranger["tls_key"],
        require_encryption=True,
    )
    with pytest.raises((OSError, TimeoutError)):
        Client(tls_cluster.scheduler, security=security, timeout=3)
