"""`python -m services.followup`: serve the followup service."""

from services.followup.app import definition
from services.runtime.service import serve

if __name__ == "__main__":
    serve(definition())
