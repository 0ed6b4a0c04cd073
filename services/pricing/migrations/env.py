from mesh.migrations import run_env
from services.pricing.models import Base

run_env(Base.metadata)
