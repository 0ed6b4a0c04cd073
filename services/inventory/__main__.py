"""`python -m services.inventory`: migrate, seed the demo data, and serve."""

from mesh.db import Database
from mesh.server import run
from services.inventory.app import build


def main() -> None:
    run(build(Database("inventory")).app)


if __name__ == "__main__":
    main()
