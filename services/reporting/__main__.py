"""`python -m services.reporting`: serve the reporting service."""

from services.reporting.app import definition
from services.runtime.service import serve

if __name__ == "__main__":
    serve(definition())
