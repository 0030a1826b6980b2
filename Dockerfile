# The production image: Airflow's official image, at the Airflow and Python versions of
# requirements/constraints.txt, plus the project installed with exactly that lock, the
# same `pip install -c requirements/constraints.txt` that `make setup` runs (and CI checks).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ENV OMNI_HOME=/opt/omnichannel \
    OMNI_DBT_TARGET_DIR=/opt/omnichannel-state/dbt-target \
    DO_NOT_TRACK=1

COPY --chown=airflow:root pyproject.toml README.md /opt/omnichannel/
COPY --chown=airflow:root requirements/constraints.txt /opt/omnichannel/requirements/constraints.txt
COPY --chown=airflow:root include /opt/omnichannel/include
# editable: the compose file mounts ./include over /opt/omnichannel/include (read-only)
RUN pip install --no-cache-dir -c /opt/omnichannel/requirements/constraints.txt \
      -e "/opt/omnichannel[deploy]"

COPY --chown=airflow:root dags /opt/omnichannel/dags
COPY --chown=airflow:root plugins /opt/omnichannel/plugins
COPY --chown=airflow:root dbt_project /opt/omnichannel/dbt_project

# writable for any uid of group 0 (Airflow's image convention): dbt's manifest and the
# landing folder; named volumes mounted here start with these permissions
USER root
RUN mkdir -p /opt/omnichannel-state/dbt-target /opt/omnichannel/.local/landing \
 && chown -R airflow:root /opt/omnichannel-state /opt/omnichannel/.local \
 && chmod -R g+rwX /opt/omnichannel-state /opt/omnichannel/.local
USER airflow
