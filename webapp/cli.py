"""The `wangge` command with the web server added: the core CLI knows nothing of the web."""

from __future__ import annotations

import click

from geodata.cli import main
from geodata.cli.context import Context, pass_ctx, reports_errors

BODY_OVERHEAD_BYTES = 64 * 1024
"""Room for a multipart upload's headers and form fields beside the file itself."""


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="default: WANGGE_PORT or 5000")
@click.option("--threads", type=int, default=8, show_default=True)
@click.option(
    "--clock-every",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="run the daily clock (wangge daily run) every this many seconds; 0: not at all",
)
@pass_ctx
@reports_errors
def serve(ctx: Context, host: str, port: int | None, threads: int, clock_every: float) -> None:
    """Serve the web app with waitress (a production WSGI server), and keep the daily clock
    (under its advisory lock: one process of several does each step)."""
    import threading

    import waitress

    from geodata.services.daily_clock import keep_time
    from webapp.factory import create_app

    app = create_app(ctx.settings)
    if clock_every > 0:
        stop = threading.Event()
        clock = threading.Thread(
            target=keep_time, args=(ctx.admin_engine, clock_every, stop), daemon=True
        )
        clock.start()
    port = port or ctx.settings.port
    click.echo(f"wangge serving on http://{host}:{port}/")
    # waitress takes in a whole body before the app sees the request: no body larger than the
    # largest upload the app accepts is taken in at all.
    body_limit = int(app.config["WANGGE_IMPORT_MAX_BYTES"]) + BODY_OVERHEAD_BYTES
    waitress.serve(app, host=host, port=port, threads=threads, max_request_body_size=body_limit)


__all__ = ["main"]
