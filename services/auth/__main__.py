"""`python -m services.auth`: migrate, seed, and serve the auth service."""

from mesh.db import Database
from mesh.server import run
from services.auth.app import build


def main() -> None:
    run(build(Database("auth")).app)


if __name__ == "__main__":
    main()
