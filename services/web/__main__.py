"""`python -m services.web`: serve the coordinators' and counsellors' page."""

from services.runtime.stateless import serve_stateless
from services.web.app import definition

if __name__ == "__main__":
    serve_stateless(definition())
