"""`python -m services.catalog`: migrate, load the demo catalogue once, and serve."""

from mesh.db import Database
from mesh.server import run
from services.catalog.app import build


def main() -> None:
    run(build(Database("catalog")).app)


if __name__ == "__main__":
    main()
