"""`python -m services.followup`: serve the followup service."""

from services.followup.app import DEFINITION
from services.runtime.service import serve

if __name__ == "__main__":
    serve(DEFINITION)
