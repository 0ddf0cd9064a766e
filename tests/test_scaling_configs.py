"""Every deployment docs/scaling.md documents loads the same Definitions with the executor and
resources it promises, and its Dagster instance configuration is valid.

The PostgreSQL instance is also exercised for real, with a throwaway server on loopback, where
the PostgreSQL server programs are installed. No Kubernetes cluster or Celery broker is started:
those configurations are loaded and validated, not run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy
import yaml
from conftest import REPO_DIR, street_row, write_street_file
from dagster._core.instance.ref import InstanceRef
from dagster._core.system_config.objects import ResolvedRunConfig
from dagster._serdes import ConfigurableClassData

from oscp_pipeline import warehouse
from oscp_pipeline.definitions import build_definitions, executor_from_environment
from oscp_pipeline.refresh import refresh_tags
from oscp_pipeline.resources import default_resources

DEPLOY_DIR = REPO_DIR / "deploy"
JOB = "quarterly_refresh"
OPTIONAL_MODULES = ("dagster_k8s", "dagster_celery", "dagster_postgres")
PG_ENVIRONMENT = {
    "DAGSTER_PG_HOST": "db.oscp.test",
    "DAGSTER_PG_PORT": "6543",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USERNAME": "dagster",
    "DAGSTER_PG_PASSWORD": "s3cret/with:symbols",
}


def env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of an environment file, as systemd or ``docker --env-file`` read it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def helm_values() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY_DIR / "k8s" / "values.yaml").read_text(encoding="utf-8"))


def code_location(values: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    return deployment


# Each documented configuration: the environment its code location runs with.
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "default": {},
    "in_process": {"OSCP_EXECUTOR": "in_process"},
    "multiprocess": {"OSCP_EXECUTOR": "multiprocess"},
    "k8s": code_location(helm_values())["env"],
    "celery": env_file(DEPLOY_DIR / "celery" / "oscp.env"),
}
EXECUTOR_NAMES = {
    "default": "multi_or_in_process_executor",
    "in_process": "in_process",
    "multiprocess": "multiprocess",
    "k8s": "k8s",
    "celery": "celery",
}
IMPORTED_MODULES = {"k8s": ["dagster_k8s"], "celery": ["dagster_celery"]}


def outside_environment() -> dict[str, str]:
    """This process's environment without any of the pipeline's or Dagster's own settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OSCP_", "DAGSTER_PG_", "DAGSTER_HOME"))
    }


def use_configuration(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> None:
    for key in list(os.environ):
        if key.startswith("OSCP_"):
            monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)


LOAD_DEFINITIONS = f"""
import json, sys
from oscp_pipeline.definitions import defs
print(json.dumps({{
    "executor": defs.resolve_job_def("{JOB}").executor_def.name,
    "raw_dir": defs.resources["raw"].raw_dir,
    "warehouse_dir": defs.resources["store"].warehouse_dir,
    "imported": sorted(m for m in {OPTIONAL_MODULES!r} if m in sys.modules),
}}))
"""


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_the_definitions_module_loads_under_each_documented_configuration(name: str) -> None:
    """As the webserver, the daemon and every step process load it: a fresh interpreter."""
    environment = CONFIGURATIONS[name]
    completed = subprocess.run(
        [sys.executable, "-c", LOAD_DEFINITIONS],
        env={**outside_environment(), **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert loaded == {
        "executor": EXECUTOR_NAMES[name],
        "raw_dir": environment.get("OSCP_RAW_DIR", str(REPO_DIR / "data" / "raw")),
        "warehouse_dir": environment.get(
            "OSCP_WAREHOUSE_DIR", str(REPO_DIR / "data" / "warehouse")
        ),
        # The optional packages are imported only by the configuration that selects them.
        "imported": IMPORTED_MODULES.get(name, []),
    }


def resolved_executor(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[dg.JobDefinition, Any]:
    use_configuration(monkeypatch, CONFIGURATIONS[name])
    job = build_definitions(default_resources(), executor_from_environment()).resolve_job_def(JOB)
    return job, ResolvedRunConfig.build(job, {}).execution


def test_the_default_keeps_dagsters_own_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    job, execution = resolved_executor(monkeypatch, "default")
    assert executor_from_environment() is None
    assert job.executor_def is dg.multi_or_in_process_executor
    # Multiprocess unless a run's config asks for in_process, as before.
    assert execution.execution_engine_name == "multi_or_in_process_executor"


@pytest.mark.parametrize(
    ("name", "executor"),
    [("in_process", dg.in_process_executor), ("multiprocess", dg.multiprocess_executor)],
)
def test_single_machine_executors_are_dagsters_own(
    monkeypatch: pytest.MonkeyPatch, name: str, executor: dg.ExecutorDefinition
) -> None:
    job, execution = resolved_executor(monkeypatch, name)
    assert job.executor_def is executor
    assert execution.execution_engine_name == name


def test_kubernetes_runs_each_step_as_a_job_configured_by_the_run_launcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster_k8s import k8s_job_executor

    job, execution = resolved_executor(monkeypatch, "k8s")
    assert job.executor_def is k8s_job_executor
    # Image, namespace, volumes and environment are not fixed in code: they come from the Helm
    # chart's run launcher and the code location (includeConfigInLaunchedRuns).
    assert execution.execution_engine_name == "k8s"
    assert execution.execution_engine_config == {
        "volume_mounts": [],
        "volumes": [],
        "retries": {"enabled": {}},
        "per_step_k8s_config": {},
        "enable_owner_references": False,
    }


def test_celery_runs_and_workers_read_the_same_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_celery.cli import get_validated_config

    _, execution = resolved_executor(monkeypatch, "celery")
    assert execution.execution_engine_name == "celery"
    environment = CONFIGURATIONS["celery"]
    submitted_to = {key: execution.execution_engine_config[key] for key in ("broker", "backend")}
    assert submitted_to == {
        "broker": environment["OSCP_CELERY_BROKER"],
        "backend": environment["OSCP_CELERY_BACKEND"],
    }
    # What `dagster-celery worker start -y deploy/celery/worker.yaml` listens on.
    worker = get_validated_config(str(DEPLOY_DIR / "celery" / "worker.yaml"))
    assert {key: worker[key] for key in ("broker", "backend")} == submitted_to


def test_an_unknown_executor_is_refused_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OSCP_EXECUTOR", "dask")
    with pytest.raises(ValueError, match="OSCP_EXECUTOR='dask' is not known") as raised:
        executor_from_environment()
    assert "in_process, multiprocess, k8s, celery" in str(raised.value)


@pytest.mark.parametrize(("name", "module"), [("k8s", "dagster_k8s"), ("celery", "dagster_celery")])
def test_a_selected_executor_whose_package_is_missing_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str
) -> None:
    monkeypatch.setenv("OSCP_EXECUTOR", name)
    monkeypatch.setitem(sys.modules, module, None)  # as if the package were not installed
    with pytest.raises(ImportError) as raised:
        executor_from_environment()
    assert str(raised.value) == (
        f"OSCP_EXECUTOR={name} needs the dagster-{name} package, which is not installed: "
        f"pip install 'oscp-pipeline[{name}]'"
    )


def validated_components(ref: InstanceRef) -> dict[str, tuple[str, Any]]:
    """Each configurable part of an instance: its class and its config, validated against the
    class's own schema as Dagster does when it starts, without connecting to anything."""
    from dagster._config import process_config, resolve_to_config_type

    parts: dict[str, ConfigurableClassData | None] = {
        "storage": ref.storage_data,
        "run_coordinator": ref.run_coordinator_data,
        "run_launcher": ref.run_launcher_data,
        "compute_logs": ref.compute_logs_data,
        "scheduler": ref.scheduler_data,
    }
    components = {}
    for part, data in parts.items():
        assert data is not None, part
        klass = getattr(importlib.import_module(data.module_name), data.class_name)
        result = process_config(resolve_to_config_type(klass.config_type()), data.config_dict)
        assert result.success, (part, result.errors)
        components[part] = (data.class_name, result.value)
    return components


def test_the_postgres_instance_config_is_valid_and_reads_its_connection_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dagster_postgres.utils import pg_url_from_config

    for key, value in PG_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    ref = InstanceRef.from_dir(str(tmp_path), config_dir=str(DEPLOY_DIR / "postgres"))
    components = validated_components(ref)
    storage_class, storage = components["storage"]
    assert storage_class == "DagsterPostgresStorage"
    assert storage["postgres_db"] == {
        "hostname": "db.oscp.test",
        "port": 6543,
        "db_name": "dagster",
        "username": "dagster",
        "password": "s3cret/with:symbols",
        "params": {},
        "scheme": "postgresql+psycopg2",
    }
    assert components["run_coordinator"][0] == "QueuedRunCoordinator"
    assert ref.settings["concurrency"] == {"runs": {"max_concurrent_runs": 1}}
    # The URL dagster-postgres builds reaches the server named in the environment, with the
    # driver it installs whatever SQLAlchemy defaults to (nothing is connected here).
    url = sqlalchemy.engine.make_url(pg_url_from_config(storage))
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.oscp.test",
        6543,
        "dagster",
        "dagster",
        "s3cret/with:symbols",
    )
    assert sqlalchemy.create_engine(url).dialect.driver == "psycopg2"


def test_the_kubernetes_values_give_every_step_pod_the_same_shared_folders() -> None:
    values = helm_values()
    location = code_location(values)
    claim = yaml.safe_load((DEPLOY_DIR / "k8s" / "shared-data-pvc.yaml").read_text("utf-8"))
    assert claim["kind"] == "PersistentVolumeClaim"
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    (volume,) = location["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    (mount,) = location["volumeMounts"]
    assert mount["name"] == volume["name"]
    for variable in ("OSCP_RAW_DIR", "OSCP_WAREHOUSE_DIR"):
        assert Path(location["env"][variable]).is_relative_to(mount["mountPath"]), variable
    assert location["env"]["OSCP_EXECUTOR"] == "k8s"
    # Runs and their step pods inherit the code location's environment and volumes.
    assert location["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert location["dagsterApiGrpcArgs"] == ["-m", "oscp_pipeline.definitions", "-a", "defs"]
    # The same instance settings as deploy/postgres/dagster.yaml.
    postgres = yaml.safe_load((DEPLOY_DIR / "postgres" / "dagster.yaml").read_text("utf-8"))
    scheme = postgres["storage"]["postgres"]["postgres_db"]["scheme"]
    assert values["postgresql"]["postgresqlScheme"] == scheme
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] == 1
    assert values["generatePostgresqlPasswordSecret"] is False


def postgres_programs() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, where the PostgreSQL server is installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return installed[-1].parent if installed else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def postgres_server() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL server on loopback, started for one test and removed after it."""
    programs = postgres_programs()
    if programs is None:
        pytest.skip("the PostgreSQL server programs (initdb, pg_ctl) are not installed")
    # Not tmp_path: the server's own user must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="oscp-postgres-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("running as root and there is no postgres user to run the server as")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    pg_ctl = [*run_as, str(programs / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*run_as, str(programs / "initdb"), "-D", str(data), "-U", "oscp", "--auth=trust"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}"
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(folder / "server.log"), "-w", "start"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(port),
            "DAGSTER_PG_DB": "postgres",
            "DAGSTER_PG_USERNAME": "oscp",
            "DAGSTER_PG_PASSWORD": "not-checked-by-trust-auth",
        }
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_refresh_runs_each_step_in_its_own_process_with_its_history_in_postgres(
    postgres_server: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, raw, wh = tmp_path / "dagster_home", tmp_path / "raw", tmp_path / "wh"
    home.mkdir()
    shutil.copy(DEPLOY_DIR / "postgres" / "dagster.yaml", home / "dagster.yaml")
    write_street_file(raw, "2014-01", [street_row(), street_row(lsoa_name="Wycombe 010B")])
    environment = {
        **postgres_server,
        "DAGSTER_HOME": str(home),
        "OSCP_EXECUTOR": "multiprocess",
        "OSCP_RAW_DIR": str(raw),
        "OSCP_WAREHOUSE_DIR": str(wh),
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    definitions = ["-m", "oscp_pipeline.definitions", "-a", "defs", "-j", JOB]
    # Two sources and the warehouse: enough to show steps side by side, kept short.
    steps = "staging__police_uk_street,staging__home_office_prc,warehouse_and_scorecard"
    tags = json.dumps(refresh_tags([dt.date(2014, 1, 1)]))
    completed = subprocess.run(
        [dagster, "job", "execute", *definitions, "-o", steps, "--tags", tags],
        env={**outside_environment(), **environment},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = completed.stdout + completed.stderr
    failures = [line for line in output.splitlines() if "STEP_FAILURE" in line or "Error" in line]
    assert completed.returncode == 0, "\n".join(failures[:20]) + "\n" + output[-2000:]

    for key, value in postgres_server.items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["oscp/quarters"] == "2013-14 Q4 to 2013-14 Q4"
        pids = {
            record.step_key: record.dagster_event.pid
            for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            if record.dagster_event is not None
        }
        (executor_started, *_) = instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT
        )
        assert "multiprocess executor" in executor_started.message
        assert set(pids) == set(steps.split(","))
        # Every step ran in a process of its own, none in the run's.
        assert len(set(pids.values())) == len(pids)
        assert executor_started.dagster_event is not None
        assert executor_started.dagster_event.pid not in pids.values()
        assert instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "oscp"]))

    with warehouse.read_only(wh) as connection:
        assert connection.sql(
            "SELECT source_file, status, rows_read, rows_loaded, rows_set_aside FROM load_log"
        ).fetchall() == [("police_uk/2014-01/2014-01-thames-valley-street.csv", "loaded", 2, 1, 1)]
