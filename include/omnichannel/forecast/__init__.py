"""Demand forecasts per SKU × channel, backtested, written for the forecast marts."""
