from mesh.migrations import run_env
from services.engagement.models import Base

run_env(Base.metadata)
