"""A broker's log directory formatted once for its cluster id (Kafka's StorageTool)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from local.kafka.errors import KafkaRuntimeError, tail


def format_storage(java: str, classpath: str, data_dir: Path, config: Path, scram: list[str]) -> None:
    """Format ``data_dir/data`` unless already done; the cluster id is kept in ``data_dir/cluster.id``.

    ``scram``: StorageTool ``--add-scram`` arguments, the SCRAM credentials written into the new metadata log.
    """
    if (data_dir / "data" / "meta.properties").exists():
        return
    log4j = data_dir / "log4j.properties"
    cluster_id_file = data_dir / "cluster.id"
    if cluster_id_file.exists():
        cluster_id = cluster_id_file.read_text(encoding="utf-8").strip()
    else:
        cluster_id = _storage_tool(java, classpath, log4j, ["random-uuid"]).strip().splitlines()[-1]
        cluster_id_file.write_text(cluster_id + "\n", encoding="utf-8")
    _storage_tool(java, classpath, log4j, ["format", "-t", cluster_id, "-c", str(config), "--ignore-formatted", *scram])


def _storage_tool(java: str, classpath: str, log4j: Path, args: list[str]) -> str:
    result = subprocess.run(
        [java, "-Xmx256m", f"-Dlog4j.configuration=file:{log4j}", "-cp", classpath,
         "kafka.tools.StorageTool", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        # the arguments may hold passwords: name the command only
        raise KafkaRuntimeError(f"kafka StorageTool {args[0]} failed (exit {result.returncode}):\n{tail(result.stdout)}")
    return result.stdout
