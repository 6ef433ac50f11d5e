"""`clothembed-search serve` in a real browser: Debian's chromium, headless, driven by Playwright's Python API.

Skipped unless both are installed (`apt-get install chromium`, `pip install playwright`; never `playwright install`).
Set CLOTHEMBED_SCREENSHOT=path.png to keep a screenshot of the results page, and CLOTHEMBED_SEARCH_INDEX=INDEX to serve an
index of your own (of a Simplicity tree with held-out photos, e.g. the embedded data's validation split) instead of the tiny one.
"""
import base64, json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

CHROMIUM = os.environ.get('CLOTHEMBED_CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
pw = pytest.importorskip('playwright.sync_api', reason='playwright is not installed (pip install playwright)')
pytestmark = pytest.mark.skipif(not CHROMIUM, reason='chromium is not installed (apt-get install chromium)')
SEARCH = 'from clothembed.search import search_cli; search_cli()'

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp('serve')
    if os.environ.get('CLOTHEMBED_SEARCH_INDEX'): yield from _serve(Path(os.environ['CLOTHEMBED_SEARCH_INDEX'])); return
    from clothembed.synth import write_dataset
    from clothembed.models import create_model
    from clothembed.checkpoint import save_checkpoint, make_meta
    from clothembed.search import build_index
    data = write_dataset(d / 'data', n_designs=15, photos_per_design=2, size=128, progress=False)
    ck = d / 'model.safetensors'      # ImageNet encoders, untrained projections: the page does not depend on the model's quality
    save_checkpoint(ck, create_model('dual'), make_meta(dict(model_type='dual', encoder='lite0', dim=256,
                                                   dset_mode='natural_image', dataset_name='simplicity', size=32)))
    build_index(data, d / 'ix', ck, progress=False)
    yield from _serve(d / 'ix')

def _serve(ix):
    photos = sorted(Path(json.loads((ix / 'records.json').read_text())['catalogue']).glob('**/photos/*.jpg'))
    port = free_port()
    p = subprocess.Popen([sys.executable, '-c', SEARCH, 'serve', '--index', str(ix), '--port', str(port), '--max-mb', '1', '--k', '8'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, 'PYTHONWARNINGS': 'ignore'})
    url = f"http://127.0.0.1:{port}/"
    t0 = time.time()
    while True:
        try: urllib.request.urlopen(url + 'health', timeout=2).read(); break
        except OSError:
            if p.poll() is not None or time.time() - t0 > 120:
                p.kill(); raise RuntimeError(f"the server did not start: {p.stdout.read()[-3000:]}")
            time.sleep(0.5)
    yield dict(url=url, photos=photos, proc=p)
    p.terminate()
    try: p.wait(timeout=20)
    except subprocess.TimeoutExpired: p.kill()

def test_page_in_chromium(server, tmp_path):
    url, photos = server['url'], server['photos']
    with pw.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1180, 'height': 760})
        page.goto(url)
        assert 'Which pattern makes this garment?' in page.inner_text('h1')
        def search(files):
            page.set_input_files('#file', files)
            page.wait_for_function("() => !document.getElementById('msg').textContent.startsWith('searching')", timeout=60_000)
            return page.inner_text('#msg')
        msg = search(str(photos[0]))                                          # pick a photo
        assert msg.startswith('8 patterns in'), msg
        assert page.locator('#results .card').count() == 8
        page.wait_for_function("() => [...document.querySelectorAll('#results img, #query img')].every(i => i.complete && i.naturalWidth > 0)")
        if os.environ.get('CLOTHEMBED_SCREENSHOT'): page.screenshot(path=os.environ['CLOTHEMBED_SCREENSHOT'], full_page=True)
        for f, want in [(dict(name='notes.txt', mimeType='text/plain', buffer=b'not a photo'), 'notes.txt is not an image'),
                        (dict(name='empty.jpg', mimeType='image/jpeg', buffer=b''), 'empty.jpg is empty'),
                        (dict(name='huge.jpg', mimeType='image/jpeg', buffer=os.urandom(1_500_000)), 'too large')]:
            msg = search(f)                                                   # a clear message on the page...
            assert want in msg and page.get_attribute('#msg', 'class') == 'err', msg
            assert page.locator('#results .card').count() == 0
        b64 = base64.b64encode(photos[1].read_bytes()).decode()               # ...and the server goes on serving: drop a photo
        dt = page.evaluate_handle("""async b64 => { const blob = await (await fetch('data:image/jpeg;base64,' + b64)).blob();
            const dt = new DataTransfer(); dt.items.add(new File([blob], 'dropped.jpg', {type: 'image/jpeg'})); return dt; }""", b64)
        page.dispatch_event('#drop', 'drop', {'dataTransfer': dt})
        page.wait_for_function("() => document.querySelectorAll('#results .card').length == 8", timeout=60_000)
        first = page.inner_text('#results .card >> nth=0').split('\n')[0].split()[1]
        page.click('#results .card >> nth=0')                                 # a pattern's own page: its sheet, its neighbours
        page.wait_for_selector('h2')
        assert page.inner_text('h1') == f'Pattern {first}'
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert page.locator('figure img').count() >= 1 and page.locator('.card').count() == 8
        assert first not in [t.split('\n')[0].split()[1] for t in page.locator('.card').all_inner_texts()]
        browser.close()
    assert server['proc'].poll() is None                                     # still running
