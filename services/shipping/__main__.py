"""`python -m services.shipping`: migrate, seed the demo data, and serve."""

from mesh.db import Database
from mesh.server import run
from services.shipping.app import build


def main() -> None:
    run(build(Database("shipping")).app)


if __name__ == "__main__":
    main()
