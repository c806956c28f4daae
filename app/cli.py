"""``flask --app app jobs ...``: operator commands over the same service code as the REST API."""

import click
from flask.cli import with_appcontext

from app.services.demo_data import create_demo_jobs


@click.group("jobs")
def jobs_cli():
    """Manage jobs and batches."""


@jobs_cli.command("demo")
@click.option("--count", default=500, show_default=True, type=click.IntRange(1, 10_000_000),
              help="How many demo jobs to create.")
@click.option("--seed", type=int, default=None, help="Random seed, for repeatable data.")
@with_appcontext
def demo(count, seed):
    """Create realistic, varied demo jobs."""
    created = create_demo_jobs(count, seed)
    click.echo(f"created {created} demo jobs")
