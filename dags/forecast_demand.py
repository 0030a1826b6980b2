"""Airflow forecast DAG: demand forecasts and the forecast marts, scheduled on the marts Asset.

The words "airflow" and "dag" must stay in this file (Airflow safe-mode discovery).
"""

from omnichannel.airflow.factories import build_forecast_dag

forecast_demand = build_forecast_dag()
