"""The HTTP app: MLflow's scoring server for a loaded model, the request contract checked first.

:func:`strict_app` is the app ``mlflow models serve`` runs (``/ping``, ``/health``,
``/version``, ``/invocations``), so the answers are MLflow's and the model's. In front of
``/invocations`` a request is checked against the contract (``strict_input``); every refusal is
a 4xx with ``{"error_code": ..., "message": ...}`` naming the row and column.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import mlflow
from fastapi import FastAPI, Request, Response
from mlflow.pyfunc import scoring_server

from pipelines.modelstore.registry import input_names, optional_input_names, text_input_names
from pipelines.modelstore.strict_input import BadRequest, check_body

JSON = "application/json"


def strict_app(model: mlflow.pyfunc.PyFuncModel) -> FastAPI:
    """MLflow's scoring app for ``model`` with the request contract checked first."""
    app = scoring_server.init(model)
    required, optional = input_names(model), optional_input_names(model)
    text = text_input_names(model)

    @app.middleware("http")
    async def strict(request: Request, call_next: Callable[[Request], Awaitable[Response]]):
        if request.url.path != "/invocations" or request.method != "POST":
            return await call_next(request)
        mime = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if mime != JSON:
            return _refuse(415, f"send {JSON}, not {mime or 'no content type'}")
        body = await request.body()
        try:  # parsing a large body takes a while: off the event loop, as MLflow predicts
            await asyncio.to_thread(check_body, body, required, optional, text)
        except BadRequest as err:
            return _refuse(400, str(err))
        return await call_next(request)

    return app


def _refuse(status: int, message: str) -> Response:
    code = "BAD_REQUEST" if status == 400 else "UNSUPPORTED_MEDIA_TYPE"
    body = json.dumps({"error_code": code, "message": message})
    return Response(content=body, status_code=status, media_type=JSON)
