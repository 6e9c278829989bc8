"""`babysit gradcheck`: backprop against numerical gradients for the chosen architecture."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from babysit.cli.errors import reports_errors
from babysit.cli.options import run_options
from babysit.config import Config
from babysit.errors import BabysitError


@reports_errors
@run_options
def gradcheck(
    config: Config,
    examples: Annotated[int, typer.Option(help="Examples in the checked batch")] = 8,
    max_entries: Annotated[int, typer.Option(help="Entries checked per parameter (sampled)")] = 200,
    tol: Annotated[float, typer.Option(help="Largest acceptable relative error")] = 1e-7,
) -> None:
    """Compare every parameter's backprop gradient with a centred numerical one (float64)."""
    import numpy as np

    from babysit.api import prepare_data
    from babysit.nn import MLP
    from babysit.nn.gradcheck import check_net
    from babysit.training.threads import BlasThreads, step_mflop

    if examples < 1 or max_entries < 1:
        raise BabysitError(f"--examples and --max-entries must be at least 1, got {examples} "
                           f"and {max_entries}")
    if not 0 < tol < 1:
        raise BabysitError(f"--tol is a relative error in (0, 1), got {tol}")
    if config.dtype != "float64":
        typer.echo("note: gradients are checked in float64 (float32 round-off is ~1e-4)")
    config = replace(config, dtype="float64")
    data = prepare_data(config)
    rng = np.random.default_rng(config.seed)
    idx = rng.choice(len(data.X_train), size=min(examples, len(data.X_train)), replace=False)
    spec = config.net_spec(data.num_features, data.num_classes, data.input_scale)
    net = MLP(spec, rng, rows=len(idx))
    with BlasThreads(step_mflop(spec, len(idx)), config.threads):
        results = check_net(net, data.X_train[idx], data.y_train[idx], dropout_seed=config.seed,
                            max_entries=max_entries, rng=rng)
    ok = True
    typer.echo(f"{'param':<8} {'shape':<12} {'checked':>8} {'at kink':>8} {'max rel err':>12}")
    for name, (err, checked, skipped) in results.items():
        flag = "ok" if err < tol else "FAIL"
        ok &= err < tol
        shape = "x".join(str(s) for s in net.params[name].shape)
        typer.echo(f"{name:<8} {shape:<12} {checked:>8} {skipped:>8} {err:>12.2e}  {flag}")
    typer.echo(f"PASS: every relative error below {tol:g}" if ok
               else f"FAIL: some relative error is at or above {tol:g}")
    raise typer.Exit(0 if ok else 1)
