"""`python -m services.intake`: serve the intake service (HTTP ingress + inbound consumer) under uvicorn."""

from services.intake.app import definition
from services.runtime.service import serve

if __name__ == "__main__":
    serve(definition())
