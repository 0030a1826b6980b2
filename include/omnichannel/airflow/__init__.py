"""The Airflow room: DAG factories, callbacks, the channel hook, cosmos set-up, DAG runs."""
