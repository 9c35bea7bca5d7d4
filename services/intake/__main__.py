"""`python -m services.intake`: serve the intake service (HTTP ingress + inbound consumer) under uvicorn."""

from services.intake.app import service
from services.runtime.service import serve

if __name__ == "__main__":
    serve(service)
