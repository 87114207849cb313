"""An HTTP proxy in front of a service that counts requests and can refuse them.

Operators put Placement behind a load balancer or rate limiter (haproxy,
nginx ``limit_req``) that answers 429 or 503 with ``Retry-After`` when it is
overloaded. The proxy plays that part in tests and benchmarks, in front of the
real Placement: it forwards every request, keeps the method and path of each
(so a test can count what a ``cyborg-agent`` process sent; the version
document keystoneauth reads on connecting, ``GET /``, is kept apart), and
answers the next ``n`` requests itself with a refusal when told to.
"""
import collections
import http.client
import http.server
import threading
import urllib.parse

from tools.harness.server_process import free_port

#: Hop-by-hop headers a proxy must not forward.
_HOP_BY_HOP = frozenset({'connection', 'keep-alive', 'transfer-encoding',
                         'proxy-connection', 'te', 'trailer', 'upgrade'})


class CountingProxy:
    """Forwards to ``target`` (``http://host:port``) from its own ``url``."""

    def __init__(self, target: str) -> None:
        parsed = urllib.parse.urlsplit(target)
        self._target = (parsed.hostname, parsed.port)
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        #: (method, path) of each request forwarded, version document aside.
        self.seen: list[tuple[str, str]] = []
        self.refused: collections.Counter = collections.Counter()
        self._refusals: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', self.port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name='counting-proxy', daemon=True)

    def start(self) -> 'CountingProxy':
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def refuse_next(self, n: int, status: int = 429,
                    retry_after: str | None = None) -> None:
        """Answer the next ``n`` requests (version document aside) with
        ``status``, and ``Retry-After: retry_after`` if given."""
        with self._lock:
            self._refusals.extend([(status, retry_after)] * n)

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()
            self.refused.clear()

    @property
    def reads(self) -> int:
        return sum(1 for method, _ in self.seen if method == 'GET')

    @property
    def writes(self) -> int:
        return len(self.seen) - self.reads

    def _take(self, method: str, path: str) -> tuple[int, str | None] | None:
        if not urllib.parse.urlsplit(path).path.strip('/'):
            return None  # the version document: neither counted nor refused
        with self._lock:
            if self._refusals:
                refusal = self._refusals.pop(0)
                self.refused[refusal[0]] += 1
                return refusal
            self.seen.append((method, path))
            return None

    def _handler_class(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else None
                refusal = proxy._take(self.command, self.path)
                if refusal is not None:
                    self._refuse(*refusal)
                    return
                upstream = http.client.HTTPConnection(*proxy._target,
                                                      timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body,
                                     headers={
                                         k: v for k, v in self.headers.items()
                                         if k.lower() not in _HOP_BY_HOP})
                    answer = upstream.getresponse()
                    content = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP | {'content-length'}:
                        self.send_header(key, value)
                self.send_header('Content-Length', str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _refuse(self, status: int, retry_after: str | None) -> None:
                content = b'{"errors": [{"status": %d, "detail": "busy"}]}' % (
                    status)
                self.send_response(status)
                if retry_after is not None:
                    self.send_header('Retry-After', retry_after)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _relay

        return Handler
