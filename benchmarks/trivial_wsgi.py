"""The ceiling for benchmarks/api.py: a WSGI app that answers a fixed JSON
body, served by gunicorn exactly as cyborg-api is."""
BODY = b'{"accelerator": []}'


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(BODY)))])
    return [BODY]
