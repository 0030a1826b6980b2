"""Loading: the batch ledger, the COPY loader into landing, publish/quarantine, watermarks."""
