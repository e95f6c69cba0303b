"""``python -m riskshare``: the same as the ``riskshare`` command."""

from riskshare.cli import main

main()
