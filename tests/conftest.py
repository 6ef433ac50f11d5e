import os, pytest

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: minutes-long; runs with `pytest -m slow` or CLOTHEMBED_SLOW=1')

def pytest_collection_modifyitems(config, items):
    if 'slow' in (config.getoption('-m') or '') or os.environ.get('CLOTHEMBED_SLOW') == '1': return
    skip = pytest.mark.skip(reason='slow: run with `pytest -m slow` or CLOTHEMBED_SLOW=1')
    for it in items:
        if 'slow' in it.keywords: it.add_marker(skip)
