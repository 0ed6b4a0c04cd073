"""`python -m services.engagement`: migrate, seed the templates, and serve."""

from mesh.db import Database
from mesh.server import run
from services.engagement.app import build


def main() -> None:
    run(build(Database("engagement")).app)


if __name__ == "__main__":
    main()
