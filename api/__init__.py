"""The integration API: FastAPI served by uvicorn (``integrations-admin serve``).

HTTP in, store calls, JSON out: no SQL here (``store/`` holds every rule and
its words), and nothing here is imported by the TUI's start (``api.cli`` parses
the ``serve`` arguments with argparse alone; FastAPI loads when ``serve`` runs).

- ``app.py``: the application (``create_app``), its endpoints and error shapes;
- ``gate.py``: the ASGI layer in front of every ``/v1/`` request: the token,
  the rate limit, the 1 MiB body limit and the request log;
- ``requestlog.py``: the request log's writer (batched, flushed on shutdown);
- ``schemas.py``: the request and response models (OpenAPI, with examples);
- ``cli.py``: the ``serve`` command.
"""
