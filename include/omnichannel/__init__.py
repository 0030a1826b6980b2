"""Omnichannel commerce data platform: the library behind the Airflow DAGs."""

__version__ = "0.1.0"
