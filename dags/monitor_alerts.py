"""Airflow monitoring DAG: freshness SLAs, alert delivery and the daily digest.

The words "airflow" and "dag" must stay in this file (Airflow safe-mode discovery).
"""

from omnichannel.airflow.factories import build_monitor_dag
from omnichannel.config import load_channels

monitor_alerts = build_monitor_dag(load_channels())
