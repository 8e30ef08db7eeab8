"""``python -m losskit``: the command line (``losskit --help``)."""

from .cli import main

if __name__ == "__main__":
    main()
