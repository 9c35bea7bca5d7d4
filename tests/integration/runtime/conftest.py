import sys
from pathlib import Path

# The helpers beside these tests are plain modules, imported by name.
sys.path.insert(0, str(Path(__file__).parent))
