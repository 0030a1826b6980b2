"""`omni simulate`: serve every channel kind from one process, truth tables, file drops."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from omnichannel.cli import main

OMNI = [sys.executable, "-m", "omnichannel.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_for_all_five_kinds_with_faults_on(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [*OMNI, "simulate", "serve", "--seed", "3", "--port", str(port), "--faults",
         "--fault", "woo_uk:server_error:count=1", "--landing", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                health = httpx.get(f"{base}/_simulator/health", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail(f"simulator did not start: {process.stdout.read()}")
        assert health["seed"] == 3
        assert sorted(health["channels"].values()) == sorted(
            ["shopify", "amazon_sp", "woocommerce", "files", "ga4"]
        )
        faults = httpx.get(f"{base}/_simulator/faults").json()["faults"]
        assert {"rate_limit", "server_error", "duplicates"} <= {f["fault"] for f in faults}
        woo = f"{base}/woo/woo_uk/wp-json/wc/v3/orders"
        assert httpx.get(woo, auth=("ck_a", "cs_b")).status_code == 502  # --fault, once
        # the clock moves: store exports for the days before appear in the landing folder
        httpx.post(f"{base}/_simulator/clock", json={"now": "2026-10-04T06:00:00Z"})
        files = sorted(p.name for p in (tmp_path / "pos_fr" / "paris01").iterdir())
        assert "sales_paris01_20261002.csv" in files
        answer = httpx.post(f"{base}/shops/shopify_us/admin/api/2025-01/graphql.json",
                            json={"query": "{ orders(first: 2) { nodes { id } } }"},
                            headers={"X-Shopify-Access-Token": "shpat_x"})  # fmt: skip
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_truth_tables_on_stdout(capsys):
    assert main(["simulate", "truth", "--seed", "3", "--start", "2026-10-01",
                 "--end", "2026-10-02"]) == 0  # fmt: skip
    daily = capsys.readouterr().out.splitlines()
    assert daily[0].startswith("channel_id,order_date,currency,orders_count,units,gmv")
    assert {line.split(",")[0] for line in daily[1:]} == {"shopify_us", "amazon_de", "woo_uk",
                                                          "pos_fr"}  # fmt: skip
    assert main(["simulate", "truth", "--table", "fx", "--end", "2026-10-02"]) == 0
    assert "EUR" in capsys.readouterr().out
    assert main(["simulate", "truth", "--table", "inventory", "--skus", "5", "--start",
                 "2026-10-01", "--end", "2026-10-01"]) == 0  # fmt: skip
    assert len(capsys.readouterr().out.splitlines()) == 1 + 5 * 5  # 5 locations × 5 SKUs


def test_files_and_faults_actions(tmp_path, capsys):
    assert main(["simulate", "files", "--end", "2026-10-04", "--landing", str(tmp_path)]) == 0
    assert "files written" in capsys.readouterr().out
    assert (tmp_path / "pos_fr" / "lyon01" / "stock_lyon01_20261002.csv").exists()
    assert main(["simulate", "faults"]) == 0
    assert "updated_between_pages" in capsys.readouterr().out
    assert main(["simulate", "serve", "--fault", "nonsense"]) == 1
