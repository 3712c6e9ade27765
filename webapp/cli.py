"""The `wangge` command with the web server added: the core CLI knows nothing of the web."""

from __future__ import annotations

import click

from geodata.cli import main
from geodata.cli.context import Context, pass_ctx, reports_errors


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="default: WANGGE_PORT or 5000")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="processes; 1: waitress in this process; more: gunicorn's gthread workers",
)
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--clock-every",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="run the daily clock (wangge daily run) every this many seconds; 0: not at all",
)
@pass_ctx
@reports_errors
def serve(
    ctx: Context, host: str, port: int | None, workers: int, threads: int, clock_every: float
) -> None:
    """Serve the web app: waitress in one process, or gunicorn with `--workers` processes of
    `--threads` threads each. Each process keeps the daily clock (under its advisory lock: one
    process of several does each step); logs are JSON lines on stderr."""
    from webapp import serving
    from webapp.infra import request_log

    request_log.configure()
    port = port or ctx.settings.port
    click.echo(f"wangge serving on http://{host}:{port}/ ({workers} process(es))")
    if workers == 1:
        app = serving.build_app(ctx.settings, threads=threads)
        serving.start_clock(ctx.settings, clock_every)
        serving.serve_waitress(app, host=host, port=port, threads=threads)
    else:
        serving.serve_gunicorn(
            ctx.settings,
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            clock_every_s=clock_every,
        )


__all__ = ["main"]
