"""`python -m services.settings`: migrate, seed, and serve the settings service."""

from mesh.db import Database
from mesh.server import run
from services.settings.app import build


def main() -> None:
    run(build(Database("settings")).app)


if __name__ == "__main__":
    main()
