"""Airflow extract DAGs: one per channel instance in include/config/channels.yml.

The words "airflow" and "dag" must stay in this file: Airflow's safe-mode discovery skips
files without them.
"""

from omnichannel.airflow.factories import build_extract_dag
from omnichannel.config import load_channels
from omnichannel.kinds import extracted_channels

for _channel in extracted_channels(load_channels()):
    globals()[f"extract_{_channel.channel_id}"] = build_extract_dag(_channel)
