from mesh.migrations import run_env
from services.order.models import Base

run_env(Base.metadata)
