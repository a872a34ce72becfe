import os
import pathlib
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED
