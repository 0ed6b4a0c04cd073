"""`python -m services.pricing`: migrate, load demo promotions, and serve pricing."""

from mesh.db import Database
from mesh.server import run
from services.pricing.app import build


def main() -> None:
    run(build(Database("pricing")).app)


if __name__ == "__main__":
    main()
