"""The floor of the HTTP benchmarks (bench/http.py: `hello_command`): a hello-world FastAPI
app, served like `palier serve`."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"status": "ok"}
