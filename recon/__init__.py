"""recon: reconcile a 健康保険組合 roster with employer My Number filings."""

__version__ = "0.1.0"
