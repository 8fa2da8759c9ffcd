"""Shared fixtures."""

import numpy as np
import pytest

from sensing.study.registry import load_plugins

load_plugins()


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)
