"""Airflow transform DAG: dbt staging → marts through cosmos, scheduled on the raw Assets.

The words "airflow" and "dag" must stay in this file (Airflow safe-mode discovery).
"""

from omnichannel.config import load_channels
from omnichannel.orchestration import build_transform_dag

transform_dbt = build_transform_dag(load_channels())
