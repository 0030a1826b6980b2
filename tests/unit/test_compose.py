"""docker-compose.yml is for servers with Docker (none runs here): check its structure."""

import yaml

from omnichannel import paths


def load():
    return yaml.safe_load((paths.project_root() / "docker-compose.yml").read_text())


def test_compose_has_the_airflow_3_services_and_two_databases():
    services = load()["services"]
    assert {
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-init",
        "redis",
        "airflow-db",
        "warehouse",
    } <= set(services)
    for name, service in services.items():
        if name != "airflow-init":
            assert "healthcheck" in service, name


def test_compose_mounts_exist_and_env_file_is_documented():
    root = paths.project_root()
    compose = load()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (root / source).exists(), f"{name}: {source}"
    assert (root / "Dockerfile").exists() and (root / ".env.example").exists()
    example = (root / ".env.example").read_text()
    text = (root / "docker-compose.yml").read_text()
    for variable in ("AIRFLOW_DB_PASSWORD", "WAREHOUSE_DB_PASSWORD"):
        assert "${" + variable in text and variable in example
