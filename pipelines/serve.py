"""Serve command: the champion over HTTP, MLflow's scoring server with a strict request check.

``python -m pipelines.serve [--model models:/trade-credit-pd@champion] [--port 5000]`` serves
the app ``mlflow models serve`` runs, with the request contract checked before MLflow parses a
request (``pipelines.modelstore.serving``): JSON only, every feature in every row, numbers or
``null`` only, no ``NaN``/``Infinity`` literals, no unknown columns, no deep nesting; the model
then refuses infinite and out-of-range values. Every refusal is a 4xx naming row and column.

Params:
    register (tracking_uri, model_name): the default model is ``models:/<model_name>@champion``.
"""

from __future__ import annotations

import argparse
import logging

from pipelines.io.files import run_stage
from pipelines.io.paths import Paths
from pipelines.modelstore import registry
from pipelines.runtime.config import load_config

log = logging.getLogger("pipelines.serve")


def serve(model_uri: str, tracking_uri: str, host: str, port: int) -> None:
    """Load ``model_uri`` from the registry and serve it until interrupted."""
    import uvicorn  # the server's: importing it costs the other commands nothing

    from pipelines.modelstore.serving import strict_app

    app = strict_app(registry.load_model(model_uri, tracking_uri))
    log.info("serving %s on http://%s:%d", model_uri, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Command line (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/params.yaml", help="params file")
    parser.add_argument("--model", help="model URI (default: the champion)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on")
    args = parser.parse_args(argv)

    def run() -> None:
        cfg = load_config(args.config)
        model_uri = args.model or f"models:/{cfg.register_.model_name}@champion"
        serve(model_uri, Paths().tracking_uri(cfg.register_.tracking_uri), args.host, args.port)

    run_stage(run)


if __name__ == "__main__":
    main()
