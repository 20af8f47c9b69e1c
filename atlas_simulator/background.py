"""An HTTP server on 127.0.0.1 served from a daemon thread: the shape every stand-in shares
(the demo's Discord inbox, the tests' webhook sink and Hugging Face Hub stand-in).

    class Inbox(BackgroundServer):
        def __init__(self) -> None:
            super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler), name="inbox")

    with Inbox() as inbox:            # or inbox.start() ... inbox.stop()
        inbox.port, inbox.address         # 12345, http://127.0.0.1:12345
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class BackgroundServer:
    """Serves ``server`` on a daemon thread between :meth:`start` and :meth:`stop`."""

    def __init__(
        self, server: ThreadingHTTPServer, *, name: str, poll_interval: float = 0.5
    ) -> None:
        self._server = server
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        """``http://host:port`` of the server."""
        return f"http://{self._server.server_address[0]!s}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wait (up to 5 s) for the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
