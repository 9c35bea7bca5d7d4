"""The broker's jars: the pinned Kafka version, resolved once per machine by Maven into a cache folder.

The version is pinned once, in ``deploy/kafka/pom.xml``. ``$KAFKA_HOME/libs`` replaces the download when set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from local.kafka.errors import KafkaRuntimeError, tail

POM_PATH = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
MVN_TIMEOUT_S = 900
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def kafka_version(pom: Path = POM_PATH) -> str:
    """The pinned Apache Kafka version (the pom's ``kafka.version`` property)."""
    try:
        root = ET.parse(pom).getroot()
    except (OSError, ET.ParseError) as exc:
        raise KafkaRuntimeError(f"cannot read the Kafka version pin from {pom}: {exc}") from exc
    node = root.find("m:properties/m:kafka.version", _POM_NS)
    if node is None:
        node = root.find("properties/kafka.version")
    if node is None or not (node.text or "").strip():
        raise KafkaRuntimeError(f"{pom} has no <kafka.version> property")
    return node.text.strip()


def _kafka_home() -> Path | None:
    home = os.environ.get("KAFKA_HOME", "").strip()
    return Path(home).expanduser() if home else None


def _kafka_home_version(libs: Path) -> str | None:
    for jar in sorted(libs.glob("kafka_2.*-*.jar")):
        name = jar.name[: -len(".jar")]
        version = name.split("-", 1)[1]
        if not any(tag in version for tag in ("sources", "javadoc", "test")):
            return version
    return None


def runtime_version() -> str:
    """Version of the broker this runtime would start: from ``$KAFKA_HOME`` if set, else the pom."""
    home = _kafka_home()
    if home is not None:
        return _kafka_home_version(home / "libs") or "unknown"
    return kafka_version()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "ariane"


def jars_dir(version: str | None = None) -> Path:
    """Where the jars of one Kafka version are cached: ``<cache>/ariane/kafka-<version>/lib``."""
    return cache_root() / f"kafka-{version or kafka_version()}" / "lib"


def _required_jars(version: str) -> tuple[str, ...]:
    return (f"kafka_2.13-{version}.jar", f"kafka-clients-{version}.jar", f"kafka-storage-{version}.jar")


def _jars_complete(lib: Path, version: str) -> bool:
    if not lib.is_dir():
        return False
    if not all((lib / name).is_file() for name in _required_jars(version)):
        return False
    # a logging backend must be there too, or the broker logs nothing at all
    return any(lib.glob("slf4j-*.jar")) and any(lib.glob("*reload4j*.jar") or lib.glob("log4j-core-*.jar"))


def ensure_jars() -> Path:
    """Return the folder holding the broker's jars, downloading them with Maven if needed.

    ``$KAFKA_HOME/libs`` is used as is when ``KAFKA_HOME`` is set. Otherwise the
    jars go to :func:`jars_dir`; they are first copied into a temporary sibling
    folder that is renamed into place only once Maven succeeded, so an
    interrupted download never looks complete.
    """
    home = _kafka_home()
    if home is not None:
        libs = home / "libs"
        if not any(libs.glob("kafka_2.*.jar")):
            raise KafkaRuntimeError(f"KAFKA_HOME is set to {home} but {libs} holds no kafka_2.*.jar")
        return libs

    version = kafka_version()
    lib = jars_dir(version)
    if _jars_complete(lib, version):
        return lib

    mvn = shutil.which("mvn")
    if not mvn:
        raise KafkaRuntimeError(
            f"Apache Kafka {version} jars are not cached in {lib} and Maven was not found "
            "(no `mvn` on PATH) to download them. Install Maven (e.g. `apt-get install maven`), "
            "set KAFKA_HOME to an unpacked Kafka distribution, or point KAFKA_BOOTSTRAP at a running broker."
        )
    lib.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="lib.partial-", dir=lib.parent))
    try:
        _download(mvn, version, staging)
        if lib.exists():  # an incomplete folder from an older, non-atomic copy
            shutil.rmtree(lib)
        try:
            staging.rename(lib)
        except OSError:
            if not _jars_complete(lib, version):  # not simply a concurrent download that won
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return lib


def _download(mvn: str, version: str, into: Path) -> None:
    try:
        result = subprocess.run(
            [
                mvn, "-q", "-B", "-f", str(POM_PATH),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={into}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=MVN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else (exc.output or "")
        raise KafkaRuntimeError(
            f"Maven did not finish downloading Apache Kafka {version} within {MVN_TIMEOUT_S} s.\n{tail(out)}"
        ) from None
    if result.returncode != 0:
        raise KafkaRuntimeError(
            f"Maven failed (exit {result.returncode}) to download Apache Kafka {version} jars:\n"
            f"{tail(result.stdout) or '(no output)'}"
        )
    if not _jars_complete(into, version):
        raise KafkaRuntimeError(
            f"Maven succeeded but the Apache Kafka {version} jars are not all there "
            f"(expected {', '.join(_required_jars(version))} and a logging backend)"
        )
