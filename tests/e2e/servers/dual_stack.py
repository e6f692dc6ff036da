"""An HTTP server of the test servers' kind that takes IPv4 and IPv6 on one socket."""

import socket
from http.server import ThreadingHTTPServer


class DualStack(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        # v4-mapped addresses too, so the same port answers both families.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
