"""Connectors, one module per channel kind: a connector pages through its source and knows
nothing of Postgres. Which kinds exist, and what each offers, is the registry's
(`omnichannel.kinds`)."""
