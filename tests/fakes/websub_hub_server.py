"""A real WebSub hub on 127.0.0.1: Flask-WebSub's hub, run as a script in its own virtualenv.

`python websub_hub_server.py PORT DBFILE [LEASE [ALGORITHM]]` serves the hub endpoint at `/hub`. Its
Celery tasks (verification of intent, content distribution with retries) run on a worker thread
over Celery's in-memory broker, so the hub answers a subscription with 202 and verifies it
afterwards, as a deployed hub does. A publisher notifies it with `hub.mode=publish&hub.topic=URL`;
it then fetches the topic (which must name its hub and self in a `Link:` header) and posts the
content, signed with ALGORITHM (sha512 unless told), to each subscriber. LEASE is the lease it
grants, in seconds (short in the renewal tests).

Only the standard library and the hub's own packages are imported here.
"""

from __future__ import annotations

import argparse
import threading

HOST = "127.0.0.1"


def serve(port: int, database: str, lease: int, algorithm: str) -> None:
    """Run the hub until killed: Flask's threaded server and a Celery worker thread."""
    import requests.utils
    from celery import Celery
    from flask import Flask
    from flask_websub.hub import Hub, SQLite3HubStorage
    from werkzeug.serving import make_server

    # the hub forwards the topic's response headers with the body `requests` decoded: asking
    # the topic for an unencoded body keeps the forwarded Content-Encoding true
    requests.utils.DEFAULT_ACCEPT_ENCODING = "identity"
    celery = Celery("websub-hub", broker="memory://")
    celery.conf.update(
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        # the in-memory broker is polled (once a second by default); a deployed hub's broker
        # (Redis, RabbitMQ) hands tasks over at once, which a short interval stands in for
        broker_transport_options={"polling_interval": 0.01},
    )
    app = Flask("websub-hub")
    app.config.update(
        PUBLISH_SUPPORTED=True,
        HUB_MIN_LEASE_SECONDS=1,
        HUB_DEFAULT_LEASE_SECONDS=lease,
        HUB_MAX_LEASE_SECONDS=max(lease, 864000),
    )
    hub = Hub(
        SQLite3HubStorage(database),
        celery,
        PUBLISH_SUPPORTED=True,
        SIGNATURE_ALGORITHM=algorithm,
        BACKOFF_BASE=0.2,
        MAX_ATTEMPTS=5,
        REQUEST_TIMEOUT=5,
    )
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    worker = celery.Worker(
        pool="threads",
        concurrency=4,
        loglevel="INFO",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    make_server(HOST, port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A Flask-WebSub hub on 127.0.0.1")
    parser.add_argument("port", type=int)
    parser.add_argument("database")
    parser.add_argument("lease", type=int, nargs="?", default=864000)
    parser.add_argument("algorithm", nargs="?", default="sha512")
    args = parser.parse_args()
    serve(args.port, args.database, args.lease, args.algorithm)
