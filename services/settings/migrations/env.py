from mesh.migrations import run_env
from services.settings.models import Base

run_env(Base.metadata)
