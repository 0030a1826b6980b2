from pathlib import Path

import pytest

from omnichannel.config import ConfigError, load_channels

VALID = """
channels:
  - channel_id: shop_a
    kind: shopify
    base_url: http://127.0.0.1:1/shops/shop_a
    timezone: Europe/Berlin
    currency: EUR
    start_date: "2026-10-01"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "channels.yml"
    path.write_text(text)
    return path


def test_repository_config_loads():
    config = load_channels()
    shop = config.get("shopify_us")
    assert shop.kind == "shopify" and shop.streams == ("orders", "products", "inventory")
    assert shop.page_size <= 250


def test_defaults_are_applied(tmp_path):
    channel = load_channels(write(tmp_path, VALID)).get("shop_a")
    assert channel.connection_id == "shop_a"
    assert channel.schedule == "0 0 * * *"
    assert channel.streams == ("orders", "products", "inventory")


def test_second_instance_of_a_kind_is_only_yaml(tmp_path):
    second = VALID + VALID.split("channels:\n", 1)[1].replace("shop_a", "shop_b")
    config = load_channels(write(tmp_path, second))
    assert [c.channel_id for c in config.channels] == ["shop_a", "shop_b"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Europe/Berlin", "Mars/Olympus"), "timezone: unknown timezone 'Mars/Olympus'"),
        (("EUR", "euro"), "ISO 4217"),
        (("kind: shopify", "kind: ebay"), "kind: unknown kind 'ebay'"),
        (('"2026-10-01"', '"October"'), "start_date: must be YYYY-MM-DD"),
        (
            ("currency: EUR", "currency: EUR\n    page_size: 500"),
            "page_size: 500 exceeds shopify's maximum of 250",
        ),
        (
            ("currency: EUR", "currency: EUR\n    streams: [tiktok]"),
            "streams: kind 'shopify' has no stream(s)",
        ),
        (
            ("    base_url: http://127.0.0.1:1/shops/shop_a\n", ""),
            "base_url: missing (required",
        ),
        (("EUR", "XXX"), "ISO 4217"),  # a code, but no currency
        (
            ("currency: EUR", "currency: EUR\n    quality: {max_bad_share: 2}"),
            "max_bad_share: Input should be less than",
        ),
        (
            ("currency: EUR", "currency: EUR\n    quality: {strict: true}"),
            "quality.*.strict: unknown",
        ),
        (
            ("currency: EUR", "currency: EUR\n    quality: {streams: {tiktok: {}}}"),
            "quality.streams names unknown stream(s)",
        ),
    ],
)
def test_invalid_config_names_the_channel_and_field(tmp_path, change, message):
    with pytest.raises(ConfigError) as error:
        load_channels(write(tmp_path, VALID.replace(*change)))
    assert message in str(error.value)
    assert "channels.yml" in str(error.value)


def test_duplicate_channel_id_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="configured twice"):
        load_channels(write(tmp_path, VALID + VALID.split("channels:\n", 1)[1]))


def test_quality_rules_default_and_override_per_stream(tmp_path):
    text = VALID.replace(
        "currency: EUR",
        "currency: EUR\n    quality:\n      max_bad_share: 0.01\n"
        "      streams: {orders: {freshness_hours: 12}}",
    )
    channel = load_channels(write(tmp_path, text)).get("shop_a")
    orders, products = channel.quality_rules("orders"), channel.quality_rules("products")
    assert (orders.max_bad_share, orders.freshness_hours) == (0.01, 12)
    assert (products.max_bad_share, products.freshness_hours) == (0.01, None)
    plain = load_channels(write(tmp_path, VALID)).get("shop_a").quality_rules("orders")
    assert (plain.max_bad_share, plain.volume_history) == (0.05, 7)


AMAZON = """
  - channel_id: amazon_x
    kind: amazon_sp
    base_url: http://127.0.0.1:1/amazon/amazon_x
    timezone: Europe/Berlin
    currency: EUR
    start_date: "2026-10-01"
"""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("", "channel 'amazon_x': options.marketplace_id: missing (required)"),
        ("    options: {marketplace_id: A1, colour: red}\n", "options.colour: unknown key"),
        (
            "    options: {marketplace_id: A1, concurrency: 0}\n",
            "options.concurrency: Input should be greater than or equal to 1",
        ),
    ],
)
def test_options_are_typed_by_the_kind(tmp_path, options, message):
    with pytest.raises(ConfigError) as error:
        load_channels(write(tmp_path, VALID + AMAZON + options))
    assert message in str(error.value)


def test_typed_options_keep_their_types_and_defaults(tmp_path):
    text = VALID + AMAZON + "    options: {marketplace_id: 123, concurrency: 3}\n"
    amazon = load_channels(write(tmp_path, text)).get("amazon_x")
    assert amazon.options == {"concurrency": 3, "marketplace_id": "123"}


def test_every_failure_is_listed_at_once(tmp_path):
    text = VALID.replace("Europe/Berlin", "Mars/Olympus").replace("EUR", "euro")
    with pytest.raises(ConfigError) as error:
        load_channels(write(tmp_path, text))
    lines = str(error.value).splitlines()
    assert [line.split(": ", 2)[2] for line in lines] == [
        "timezone: unknown timezone 'Mars/Olympus'",
        "currency: must be an ISO 4217 code, got 'euro'",
    ]


def test_a_channel_reference_must_name_a_configured_channel(tmp_path):
    ga4 = """
  - channel_id: ga4_x
    kind: ga4
    base_url: http://127.0.0.1:1/ga4/ga4_x
    timezone: Europe/Berlin
    currency: EUR
    start_date: "2026-10-01"
    options: {property_id: "1", traffic_of: shop_z}
"""
    with pytest.raises(ConfigError, match="options.traffic_of names 'shop_z'"):
        load_channels(write(tmp_path, VALID + ga4))
