"""`licensewatch emulator serve`: run the Microsoft cloud emulator over HTTPS until stopped."""

from __future__ import annotations

import gc
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.seed import build_world
from licensewatch.emulator.server import serve as serve_emulator

emulator_app = typer.Typer(
    no_args_is_help=True, help="The built-in Microsoft cloud emulator (Entra + Graph, offline)."
)


class Throttle(StrEnum):
    OFF = "off"
    REALISTIC = "realistic"


@emulator_app.command()
def serve(
    info_file: Annotated[
        Path,
        typer.Option(
            "--info-file", help="Where to write the JSON with URLs, CA bundle and credentials."
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.", min=0)] = 8443,
    tenants: Annotated[
        int | None, typer.Option(help="Number of tenants (default: the scenario's).", min=1)
    ] = None,
    users: Annotated[
        int | None, typer.Option(help="Users per tenant (default: the scenario's).", min=0)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated world and faults.")] = 1,
    scenario: Annotated[
        str, typer.Option(help="small-office, enterprise, msp or messy.")
    ] = "small-office",
    latency_ms: Annotated[
        int, typer.Option("--latency-ms", help="Extra delay per request.", min=0)
    ] = 0,
    throttle: Annotated[
        Throttle, typer.Option(help="Graph throttling: off or realistic.")
    ] = Throttle.OFF,
    faults: Annotated[
        str, typer.Option(help="Fault SPEC, e.g. '503@/v1.0/users#nth=3' (docs/emulator.md).")
    ] = "",
    cert_dir: Annotated[
        Path | None,
        typer.Option(
            "--cert-dir", help="TLS and app certificates (default: next to the info file)."
        ),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(help="Microsoft's licensing CSV, to sell products beyond the built-in ones."),
    ] = None,
    token_lifetime: Annotated[
        int, typer.Option("--token-lifetime", help="Access token lifetime in seconds.", min=1)
    ] = 3599,
    delta_without_licence_states: Annotated[
        bool,
        typer.Option(
            "--delta-without-licence-states",
            help="Leave licenseAssignmentStates out of /users/delta items, as Graph may.",
        ),
    ] = False,
    sign_in_sentinels: Annotated[
        bool,
        typer.Option(
            "--sign-in-sentinels", help='Serve "never" signed in as 0001-01-01 and "" dates.'
        ),
    ] = False,
) -> None:
    """Serve the emulator over HTTPS until SIGTERM or Ctrl-C; the info file appears when ready."""
    info_file = info_file.absolute()
    cert_dir = (cert_dir or info_file.parent / "emulator-certs").absolute()
    try:
        world = build_world(
            tenants=tenants,
            users=users,
            seed=seed,
            scenario=scenario,
            cert_dir=cert_dir,
            catalog=catalog,
            token_lifetime_seconds=token_lifetime,
        )
        # The world lives as long as the process: keep the cyclic GC from walking it on every page.
        gc.freeze()
        options = EmulatorOptions(
            latency_ms=latency_ms,
            throttle="realistic" if throttle is Throttle.REALISTIC else "off",
            faults=faults,
            seed=seed,
            delta_license_states=not delta_without_licence_states,
            sign_in_sentinels=sign_in_sentinels,
        )

        def ready(info: dict[str, Any]) -> None:
            users_total = sum(t["users"] for t in info["tenants"])
            typer.echo(
                f"licensewatch emulator ready at {info['authority_host']} "
                f"({len(info['tenants'])} tenants, {users_total} users; info file {info_file})"
            )

        serve_emulator(world, options, host, port, cert_dir, info_file, on_ready=ready)
    except ValueError as exc:  # a bad scenario, catalogue or fault SPEC
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
