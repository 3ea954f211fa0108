"""Crawl stage: channels and list pages (``crawler``), polite HTTP (``fetch``) and the raw
landing zone (``landing``). Imports flow one way: crawler -> fetch, landing -> records/settings.
"""

from .crawler import (
    PACKAGED_CHANNELS,
    ChannelConfigError,
    SiteChangedError,
    backfill_session,
    crawl,
    crawl_channel,
    end_backfill_session,
    list_page_url,
    load_channels,
    parse_channels,
    parse_list_page,
)

__all__ = [
    "PACKAGED_CHANNELS",
    "ChannelConfigError",
    "SiteChangedError",
    "backfill_session",
    "crawl",
    "crawl_channel",
    "end_backfill_session",
    "list_page_url",
    "load_channels",
    "parse_channels",
    "parse_list_page",
]
