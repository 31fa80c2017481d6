"""Source type → connector class. Imports are lazy so the CLI and DAGs start fast."""

from __future__ import annotations

from importlib import import_module

from townsquare.connectors.base import Connector

_CONNECTORS: dict[str, str] = {
    "wxr": "townsquare.connectors.wxr:WxrConnector",
    "wordpress": "townsquare.connectors.wordpress:WordPressConnector",
    "feed": "townsquare.connectors.feed:FeedConnector",
    "discourse": "townsquare.connectors.discourse:DiscourseConnector",
    "mbox": "townsquare.connectors.mbox:MboxConnector",
    "pipermail": "townsquare.connectors.pipermail:PipermailConnector",
    "git": "townsquare.connectors.git:GitConnector",
    "github": "townsquare.connectors.github:GitHubConnector",
    "gharchive": "townsquare.connectors.gharchive:GhArchiveConnector",
    "crm": "townsquare.connectors.crm:CrmConnector",
}


def implemented_types() -> list[str]:
    return sorted(_CONNECTORS)


def connector_class(source_type: str) -> type[Connector]:
    try:
        target = _CONNECTORS[source_type]
    except KeyError:
        raise ValueError(
            f"unknown source type {source_type!r}; expected one of {', '.join(implemented_types())}"
        ) from None
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)
