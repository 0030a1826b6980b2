"""Alerts from Airflow events, as notifiers: a task that fails for good opens (or counts
on) an alert and passing again resolves it; a DAG run that fails with no failed task to
say why (a timeout) is an alert of its own. The alert logic is the alerts room's."""

from __future__ import annotations

from airflow.sdk import BaseNotifier


class AlertNotifier(BaseNotifier):
    """Hands an Airflow callback's context to the alert source for `event`."""

    EVENTS = ("task_failed", "task_succeeded")  # a DAG's own callbacks: see RUN_CALLBACKS

    def __init__(self, event: str):
        super().__init__()
        if event not in self.EVENTS:
            raise ValueError(f"unknown event {event!r} (known: {self.EVENTS})")
        self.event = event

    def notify(self, context) -> None:
        from omnichannel.alerts import sources as alert_sources

        getattr(alert_sources, self.event)(context)


TASK_CALLBACKS = {
    "on_failure_callback": AlertNotifier("task_failed"),
    "on_success_callback": AlertNotifier("task_succeeded"),
}


def _dag_run_failed(context) -> None:
    from omnichannel.alerts.sources import dag_run_failed

    dag_run_failed(context)


def _dag_run_succeeded(context) -> None:
    from omnichannel.alerts.sources import dag_run_succeeded

    dag_run_succeeded(context)


# A DAG's own callbacks stay plain functions: Airflow 3.3 runs them against the
# SerializedDAG, which a BaseNotifier cannot render its templates with (it asks the DAG for
# get_template_env). tests/integration/airflow/test_alert_callbacks.py runs both kinds.
RUN_CALLBACKS = {"on_failure_callback": _dag_run_failed, "on_success_callback": _dag_run_succeeded}
