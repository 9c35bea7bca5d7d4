"""`python -m services.clock`: serve the day clock."""

from services.clock.app import definition
from services.runtime.service import serve

if __name__ == "__main__":
    serve(definition())
