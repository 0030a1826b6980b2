"""Airflow plugin: the "Ops alerts" page (include/omnichannel/alerts/page.py) in the UI's
navigation, served by the API server at /ops-alerts."""

from airflow.plugins_manager import AirflowPlugin

from omnichannel.alerts.page import create_app


class OpsAlertsPlugin(AirflowPlugin):
    name = "ops_alerts"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/ops-alerts", "name": "Ops alerts"}]
    external_views = [
        {
            "name": "Ops alerts",
            "href": "ops-alerts/",
            "url_route": "ops-alerts",
            "destination": "nav",
        }
    ]
