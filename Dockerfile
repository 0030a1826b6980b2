# Airflow image with the project's pinned dependencies (same lock as the local set-up).
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements/constraints.txt /opt/omnichannel/requirements/constraints.txt
COPY --chown=airflow:root pyproject.toml README.md /opt/omnichannel/
COPY --chown=airflow:root include /opt/omnichannel/include
RUN pip install --no-cache-dir -c /opt/omnichannel/requirements/constraints.txt -e /opt/omnichannel
