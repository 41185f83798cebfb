"""One watch request and its stream of lines, shared by every watcher of this package.

Both the collector (pods, nodes, namespaces) and the single-object watches (the token
Secret, the ``IBMLicensing`` resource) open a watch the same way and read it the same
way; the difference is only what they do with each batch of lines. A batch is every
line that has arrived (``watch_lines``), so a burst of events costs one step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.failures import GONE, ResourceExpired, status_code
from license_service.cluster.kubernetes.raw_responses import close_response
from license_service.cluster.kubernetes.watch_lines import line_blocks
from license_service.cluster.kubernetes.watch_options import WatchOptions

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

# A watch that ends sooner than this without a single line ended "at once".
QUIET_END_SECONDS: Final = 0.5


def open_watch(
    request: Callable[..., Any], *, options: WatchOptions, resource_version: str | None
) -> HTTPResponse:
    """Start a watch from ``resource_version`` with bookmarks; a 410 is ``ResourceExpired``."""
    try:
        response: HTTPResponse = request(
            timeout=(options.connect_timeout_seconds, options.watch_read_timeout_seconds),
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=options.watch_timeout_seconds,
        )
    except ApiException as error:
        if status_code(error) == GONE:
            raise ResourceExpired(
                f"resourceVersion {resource_version} is too old (410 Gone)"
            ) from error
        raise
    return response


def follow_watch(
    response: HTTPResponse,
    *,
    apply: Callable[[list[bytes]], None],
    track: Callable[[HTTPResponse | None], None],
) -> bool:
    """Feed every batch of lines to ``apply`` until the stream ends, then close it.

    ``track`` is told the response while it is read (so a stop can interrupt it).
    Returns whether the server ended the watch at once without a line: a server or
    proxy doing that every time must not make the caller's loop spin.
    """
    track(response)
    started = time.monotonic()
    delivered = False
    try:
        for batch in line_blocks(response):
            delivered = True
            apply(batch)
    finally:
        track(None)
        close_response(response)
    return not delivered and time.monotonic() - started < QUIET_END_SECONDS
