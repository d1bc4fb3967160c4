"""The command line (SPEC §7): `recon run`, `recon check`, `recon gate`.

Each command lives in its own module under `recon/commands/`; what they share
(options, exit codes, progress) is `recon/commands/common.py`.
"""

from __future__ import annotations

import typer

from recon.commands.check import check
from recon.commands.gate import gate
from recon.commands.run import run
from recon.commands.sample import sample

app = typer.Typer(
    help="Reconcile the society's roster (加入者台帳) with the employer's My Number filings "
    "(事業主届出) before mailing 資格情報のお知らせ and 資格確認書.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run)
app.command()(check)
app.command()(gate)
app.command()(sample)


def main() -> None:
    app()
