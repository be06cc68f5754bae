"""Entry point of the plain HTTP server subprocess: `python _plain_http_main.py ROOT`.

Serves ROOT with the standard library's ThreadingHTTPServer on an ephemeral
127.0.0.1 port and prints that port as the first stdout line. Range and If-Range
request headers are dropped, so every GET answers 200 with the whole body.
"""

from __future__ import annotations

import functools
import http.server
import sys


class NoRangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files without byte-range support and without request logging."""

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok:
            for name in ("Range", "If-Range"):
                del self.headers[name]
        return ok

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(root: str) -> None:
    handler = functools.partial(NoRangeHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
