"""`python -m services.referral`: serve the referral service."""

from services.referral.app import definition
from services.runtime.service import serve

if __name__ == "__main__":
    serve(definition())
