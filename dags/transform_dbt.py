"""Airflow transform DAG: dbt staging → marts through cosmos, scheduled on the raw Assets.

The words "airflow" and "dag" must stay in this file (Airflow safe-mode discovery).
"""

from omnichannel.airflow.factories import build_transform_dag
from omnichannel.config import load_channels

transform_dbt = build_transform_dag(load_channels())
