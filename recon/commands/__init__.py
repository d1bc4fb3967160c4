"""One module per `recon` command; `recon/cli.py` assembles them."""
