"""docker-compose.yml and the Dockerfile are for servers with Docker (no engine runs here):
their structure is checked against the repository, Airflow's own configuration options and
the environment `make setup` installed with the same lock the image installs."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from omnichannel import paths
from omnichannel.cli import main

ROOT = paths.project_root()
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
ONE_SHOT = {"airflow-init", "superset-init"}  # run to completion, then exit
BI_SERVICES = {"superset", "superset-db", "superset-init"}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(:?-[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def pins() -> dict[str, str]:
    lines = (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
    return {
        name.lower(): version
        for name, _, version in (line.partition("==") for line in lines if "==" in line)
    }


def test_the_services_of_airflow_3s_layout_two_databases_and_bi(compose):
    services = compose["services"]
    assert AIRFLOW_SERVICES | ONE_SHOT | {"redis", "airflow-db", "warehouse"} <= set(services)
    assert set(services) >= BI_SERVICES
    for name in BI_SERVICES:
        assert services[name]["profiles"] == ["bi"], name
    # Airflow's metadata and the warehouse: two servers, two volumes, two sets of roles
    assert services["airflow-db"]["volumes"] != services["warehouse"]["volumes"]
    assert services["airflow-db"]["environment"]["POSTGRES_USER"] == "airflow"
    common = services["airflow-scheduler"]["environment"]
    assert "@airflow-db/" in common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@warehouse:" in common["OMNI_WAREHOUSE_URL"]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_every_long_running_service_has_a_health_check_and_starts_after_init(compose):
    services = compose["services"]
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: no health check"
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert condition == {"condition": expected}, f"{name} → {dependency}"
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }


def test_workers_scale_out(compose):
    worker = compose["services"]["airflow-worker"]
    # `--scale airflow-worker=N` fails on a fixed container name or a published port
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"] == "celery worker"
    assert "${AIRFLOW_WORKER_CONCURRENCY" in (ROOT / "docker-compose.yml").read_text()


def test_volumes_are_declared_and_the_project_is_mounted_read_only(compose):
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} is not in the repository"
                assert mode == ["ro"], f"{name}: {source} must be mounted read-only"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert used == declared  # no forgotten volume


def test_every_variable_is_in_env_example_without_a_secret(compose, env_example):
    text = (ROOT / "docker-compose.yml").read_text()
    required = {name for name, default in VARIABLE.findall(text) if not default}
    assert required <= set(env_example), f"missing in .env.example: {required - set(env_example)}"
    secrets = {k: v for k, v in env_example.items() if re.search("PASSWORD|SECRET|KEY", k)}
    assert secrets and all(value == "change-me" for value in secrets.values()), secrets
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_airflow_settings_are_real_configuration_options(compose):
    from airflow.configuration import conf

    described = conf.configuration_description
    cosmos_settings = Path(importlib.import_module("cosmos.settings").__file__).read_text()
    for name, service in compose["services"].items():
        for key in service.get("environment") or {}:
            match = re.fullmatch(r"AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)", key)
            if not match:
                continue
            section, option = match.group(1).lower(), match.group(2).lower()
            if section == "cosmos":  # cosmos reads its options without describing them all
                assert f'"cosmos", "{option}"' in cosmos_settings, f"{name}: {key}"
            else:
                assert option in described.get(section, {}).get("options", {}), f"{name}: {key}"


def test_omni_settings_are_read_by_the_code(compose):
    sources = [
        *(ROOT / "include").rglob("*.py"),
        *(ROOT / "bi").glob("*.py"),  # Superset's side (its own virtualenv)
        ROOT / "dbt_project" / "profiles.yml",
    ]
    code = "\n".join(p.read_text() for p in sources)
    for name, service in compose["services"].items():
        for key in service.get("environment") or {}:
            if key.startswith("OMNI_"):
                assert f'"{key}"' in code or f"'{key}'" in code, f"{name}: {key} is read nowhere"


def test_the_commands_of_the_one_shot_services_exist(compose):
    command = compose["services"]["airflow-init"]["command"]
    assert command[:2] == ["bash", "-c"]
    argv = shlex.split(command[2])
    assert argv[0] == "omni"
    assert main([*argv[1:], "--help"]) == 0, command  # 2: unknown verb
    # Superset's: its migrations, roles, then our assets script (bi/ is mounted at /app/bi)
    command = compose["services"]["superset-init"]["command"]
    steps = [shlex.split(step) for step in command[2].split("&&")]
    assert steps[:2] == [["superset", "db", "upgrade"], ["superset", "init"]]
    python, script, verb, bundle = steps[2]
    assert python == "python" and verb == "setup"
    assert (ROOT / script.replace("/app/", "", 1)).exists(), script
    assert (ROOT / bundle.replace("/app/", "", 1) / "dashboards").is_dir(), bundle
    assert f'argv[0] == "{verb}"' in (ROOT / "bi" / "assets.py").read_text()


def test_images_are_built_here_or_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        build = service.get("build")
        if isinstance(build, dict):
            assert (ROOT / build["context"] / build["dockerfile"]).exists(), name
        elif build:
            assert (ROOT / build / "Dockerfile").exists(), name
        else:
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"
    airflow = AIRFLOW_SERVICES | {"airflow-init"}
    assert len({compose["services"][n]["image"] for n in airflow}) == 1  # one Airflow image
    assert len({compose["services"][n]["image"] for n in BI_SERVICES - {"superset-db"}}) == 1


def test_the_superset_image_installs_the_lock_make_bi_installs():
    """bi/Dockerfile installs bi/requirements.lock, the lock `make bi` installs into
    .local/bi/venv; the lock pins every package the installed Superset has."""
    text = (ROOT / "bi" / "Dockerfile").read_text().replace("\\\n", " ")
    assert "COPY bi/requirements.lock" in text and "-r /tmp/requirements.lock" in text
    assert re.search(r"^FROM python:3\.11-slim-\S+$", text, re.M)
    lock = {
        name.lower().replace("_", "-"): version
        for name, _, version in (
            line.partition("==")
            for line in (ROOT / "bi" / "requirements.lock").read_text().splitlines()
            if "==" in line
        )
    }
    assert lock["apache-superset"].startswith("6.1.") and lock["flask-caching"] < "2.3"
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -qq -r bi/requirements.lock" in makefile
    python = ROOT / ".local" / "bi" / "venv" / "bin" / "python"
    if python.exists():  # installed by `make test` and `make bi`
        frozen = subprocess.run(
            [str(python), "-m", "pip", "freeze", "--exclude-editable"],
            env={"PATH": os.environ["PATH"]},  # not this process's PYTHONPATH
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        for line in frozen.splitlines():
            name, _, version = line.partition("==")
            if version:
                assert lock.get(name.lower().replace("_", "-")) == version, line


def test_the_dockerfile_extends_the_official_image_at_the_locked_versions():
    lines = dockerfile()
    args = dict(line.split(None, 1)[1].split("=", 1) for line in lines if line.startswith("ARG "))
    [base] = [line.split()[1] for line in lines if line.startswith("FROM ")]
    image = base.replace("${AIRFLOW_VERSION}", args["AIRFLOW_VERSION"]).replace(
        "${PYTHON_VERSION}", args["PYTHON_VERSION"]
    )
    assert image == f"apache/airflow:{pins()['apache-airflow']}-python3.11"
    assert args["PYTHON_VERSION"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    for line in lines:
        if line.startswith("COPY "):
            sources = [w for w in line.split()[1:-1] if not w.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_the_image_installs_what_make_setup_installs_and_ci_checks():
    [install] = [line for line in dockerfile() if line.startswith("RUN pip install")]
    words = shlex.split(install)
    constraints = words[words.index("-c") + 1]
    assert constraints.endswith("requirements/constraints.txt")
    [target] = [w for w in words if w.startswith("/opt/omnichannel[")]
    image_extras = set(target[target.index("[") + 1 : -1].split(","))
    makefile = (ROOT / "Makefile").read_text()
    [setup_line] = [
        line for line in makefile.splitlines() if "-c requirements/constraints.txt" in line
    ]
    setup_extras = set(re.search(r"\.\[([a-z,]+)\]", setup_line).group(1).split(","))
    assert image_extras <= setup_extras  # make setup installs at least what the image does
    # and this environment, installed that way, holds exactly the lock's versions
    wrong = {}
    for name, version in pins().items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong[name] = (version, None)
            continue
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed versions differ from requirements/constraints.txt: {wrong}"
    for extra in image_extras:  # each extra's packages are in the lock
        for requirement in importlib.metadata.requires("omnichannel") or []:
            if f'extra == "{extra}"' in requirement:
                name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
                assert name in pins(), f"{name} ({extra}) is not locked"


def compose_command() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_itself_accepts_the_file(tmp_path):
    """Compose's own parser and schema (`config`, which needs no engine), with .env.example
    as the .env. CI installs Debian's docker-compose so that this runs there."""
    command = compose_command()
    if command is None:
        message = "neither `docker compose` nor `docker-compose`: apt-get install docker-compose"
        if os.environ.get("OMNI_REQUIRE_COMPOSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for profile in ([], ["--profile", "bi"]):
        result = subprocess.run(
            [*command, *profile, "config", "--services"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        services = set(result.stdout.split())
        assert services >= AIRFLOW_SERVICES
        if profile:
            assert services >= BI_SERVICES


def test_published_ports_bind_loopback_unless_told_and_no_secret_is_on_a_command_line(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith(("127.0.0.1:", "${BIND_ADDRESS:-127.0.0.1}:")), (name, port)
        command = (
            " ".join(service.get("command") or [])
            if isinstance(service.get("command"), list)
            else str(service.get("command") or "")
        )
        assert "${REDIS_PASSWORD}" not in command and "PASSWORD}" not in command, name
    redis = compose["services"]["redis"]
    assert "$$REDISCLI_AUTH" in " ".join(redis["command"])  # read from the environment
