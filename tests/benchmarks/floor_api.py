"""The floor of the API benchmark: a bare FastAPI app answering ``{}`` at the
ping's path, served by the same uvicorn as ``serve`` (no token, no database).
Nothing on FastAPI and uvicorn answers faster, so the API's ping is compared
with this."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/v1/ping")
async def ping() -> dict:
    return {}
