"""Assembles the emulator's ASGI app: Entra endpoints, Graph v1.0, control API, fault injection."""

from __future__ import annotations

from starlette.applications import Starlette

from licensewatch.emulator.auth_routes import auth_routes
from licensewatch.emulator.control import control_routes
from licensewatch.emulator.faults import FaultInjector
from licensewatch.emulator.graph.routes import graph_routes
from licensewatch.emulator.options import EmulatorOptions
from licensewatch.emulator.signin import SignInState
from licensewatch.emulator.signin_routes import signin_routes
from licensewatch.emulator.state import World
from licensewatch.emulator.tokens import TokenIssuer


def create_app(world: World, options: EmulatorOptions | None = None) -> Starlette:
    """The whole emulator as one ASGI app (served over TLS by `emulator serve`, or in tests)."""
    options = options or EmulatorOptions()
    issuer = TokenIssuer(world)
    injector = FaultInjector(options)
    sign_ins = SignInState()
    app = Starlette(
        routes=[
            *control_routes(world, issuer, injector),
            *signin_routes(world, sign_ins),
            *auth_routes(world, issuer, injector, sign_ins),
            *graph_routes(world, issuer, injector, options),
        ]
    )
    app.state.world = world
    app.state.issuer = issuer
    app.state.injector = injector
    app.state.options = options
    return app
