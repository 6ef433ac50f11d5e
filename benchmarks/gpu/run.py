"""The paper's recipe and the full benchmark at GPU speed, in one script with a time budget per stage.

    python benchmarks/gpu/run.py [--smoke] [--work DIR] [--total-s 480]     (normally through run.sh, which installs first)

Stages, each in a child process with its own time limit, so that the JSON is always written:
  ceiling   the model alone: a training step (forward, backward, SGD) of the paper's Siamese ResNeXt-50 32x4d at 224 px,
            bf16 autocast, channels-last, on random tensors already on the GPU: images/s
  pipeline  `--recipe paper` end to end: synthetic data made by `write_dataset` on every core,
            the item cache, the fastai Learner, a checkpoint every epoch; images/s in the steady state of the training
            batches (first batches of each epoch, validation and checkpoints excluded), and its ratio to the ceiling
  bench     the default recipe's full benchmark setting (1000 designs, 128 px, `clothembed.bench.run_bench`), one
            contender at a time so that those finished are reported when time runs out
  qmul      the QMUL part at the full setting, when ../shared/data/qmul_sbir was copied beside the tree
Writes gpu_bench.json (figures and environment) to $OUT when set, else to the working folder.
"""
import argparse, json, os, platform, shutil, signal, subprocess, sys, time, traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FULL = dict(encoder='resnext50_32x4d', size=224, bs=200, steps=30, warm=5, designs=1500, photos=4, epochs=3,
            budgets=dict(ceiling=60, pipeline=150, bench=240, qmul=90), bench_train=dict(extra_designs=1000), bench_only=None, qmul=None)   # fewer extra designs: generating them is single-process
SMOKE = dict(encoder='resnext50_32x4d', size=32, bs=4, steps=3, warm=1, designs=16, photos=2, epochs=2,
             budgets=dict(ceiling=120, pipeline=300, bench=300, qmul=300),   # generous: a shared 2-core CI machine
             bench_train=dict(size=32, epochs=1, bs=8, extra_designs=8), bench_only=['default recipe: siamese grayscale_mask', 'default recipe: dual photo ↔ line drawing'],
             qmul=dict(size=32, epochs=1, bs=16, frozen_blocks=3))

def write_json(o, path):
    path = Path(path); tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(o, indent=1, default=str)); os.replace(tmp, path)

def environment():
    import torch
    e = dict(python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
             cpu_count=os.cpu_count(), host=platform.node(), gpu=None)
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        e.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), gpu_count=torch.cuda.device_count())
    for m in ('torchvision', 'fastai', 'fastcore', 'timm', 'clothembed'):
        try: e[m] = __import__(m).__version__
        except Exception as ex: e[m] = f"unavailable ({type(ex).__name__})"
    return e

# ---------------------------------------------------------------------------------------------------- stages (children)
def stage_ceiling(s, work, res, save):
    "A bare training step of the paper's model on random tensors: the most the pipeline can reach"
    import torch
    from clothembed.models import create_model
    from clothembed.losses import get_loss
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu'); cuda = dev.type == 'cuda'
    torch.backends.cudnn.benchmark = True
    model = create_model('siamese', s['encoder'], 256, pretrained=False).to(dev).train()
    if cuda: model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = get_loss('contrastive', 0.1)
    x1, x2 = (torch.randn(s['bs'], 3, s['size'], s['size'], device=dev) for _ in range(2))
    if cuda: x1, x2 = (x.contiguous(memory_format=torch.channels_last) for x in (x1, x2))
    y = torch.randint(0, 2, (s['bs'],), device=dev)
    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
            loss = loss_fn(model(x1, x2), y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    for _ in range(s['warm']): step()
    if cuda: torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(s['steps']): step()
    if cuda: torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    res.update(images_per_s=round(s['steps'] * 2 * s['bs'] / secs, 1), steps=s['steps'], batch_images=2 * s['bs'], size=s['size'],
               encoder=s['encoder'], bf16_autocast=cuda, channels_last=cuda, device=str(dev), seconds=round(secs, 2))
    if cuda: res['max_memory_gib'] = round(torch.cuda.max_memory_allocated() / 2**30, 1)

def _synth(s, work, size, designs, name):
    "`write_dataset` with its photos rendered on every core"
    from clothembed.synth import write_dataset
    root = Path(work) / name; shutil.rmtree(root, ignore_errors=True)
    n = os.cpu_count() or 1; t0 = time.time()
    write_dataset(root, designs, s['photos'], size, progress=False, n_workers=n)
    return root, dict(processes=n, designs=designs, images=len(list((root / 'deepfashion2').rglob('*.jpg'))), size=size,
                      generate_seconds=round(time.time() - t0, 1))

def stage_pipeline(s, work, res, save):
    "The paper's recipe through `train`: the timing callback rides along as one of fastai's default callbacks"
    import torch
    import fastai.learner
    from fastai.callback.core import Callback
    from clothembed.train import TrainConfig, train, ckpt_file
    root, gen = _synth(s, work, s['size'], s['designs'], 'paper_data'); res['data'] = gen; save()
    cuda = torch.cuda.is_available(); sync = torch.cuda.synchronize if cuda else (lambda: None)
    class SteadyTimer(Callback):
        "Per epoch: time from the end of the warm-up batches to the end of the training batches (one sync at each end)"
        order, epochs = 100, []
        def before_train(self): self.t = None; self.n = 0; self.imgs = 0
        def after_batch(self):
            if not self.training: return
            if self.iter == s['warm'] - 1: sync(); self.t = time.perf_counter()
            elif self.t is not None: self.n += 1; self.imgs += 2 * len(self.learn.yb[0])
        def after_train(self):
            if self.t is None or not self.n: return
            sync(); dt = time.perf_counter() - self.t
            self.epochs.append(dict(epoch=self.epoch, batches=self.n, images=self.imgs, seconds=round(dt, 3), images_per_s=round(self.imgs / dt, 1)))
    timer = SteadyTimer
    fastai.learner.defaults.callbacks = list(fastai.learner.defaults.callbacks) + [SteadyTimer]
    # exactly what `clothembed-train --recipe paper --pretrained 0 --freeze_encoder_until_it 0` builds: the encoder is trained
    # from the first batch, as the ceiling's step is (frozen, the first 1000 iterations cost much less)
    cfg = TrainConfig(**{**TrainConfig.paper().__dict__, **dict(run_id='paper_e2e', dataset_name='deepfashion', data_root=str(root),
                                                              pretrained=False, freeze_encoder_until_it=0, epochs=s['epochs'], bs=s['bs'],
                                                              size=s['size'], encoder=s['encoder'], out=str(work))})
    t0 = time.time(); learn = train(cfg, restore=False, quiet=True); wall = time.time() - t0
    ck = ckpt_file(cfg); meta = json.loads(ck.with_suffix('.json').read_text())
    steady = [e for e in timer.epochs if e['epoch'] > 0] or timer.epochs
    imgs, secs = sum(e['images'] for e in steady), sum(e['seconds'] for e in steady)
    n_train = len(learn.dls.train) * 2 * cfg.bs * cfg.epochs
    res.update(recipe='paper', config={k: getattr(cfg, k) for k in ('encoder', 'size', 'bs', 'recipe', 'schedule', 'sampler', 'loss', 'lr', 'epochs', 'frozen_blocks', 'freeze_encoder_until_it', 'augment', 'pretrained')},
               images_per_s=round(imgs / secs, 1) if secs else None, per_epoch=timer.epochs, fit_seconds=round(wall, 1),
               whole_fit_images_per_s=round(n_train / wall, 1), checkpoint=str(ck), checkpoint_epoch=meta['epoch'],
               final_metrics={n: float(v) for n, v in zip(learn.recorder.metric_names[1:], learn.recorder.log[1:]) if n != 'time' and v is not None})

def _bench_data(s, work):
    "The benchmark's dataset, as `default_data` makes it (1000 designs, 128 px) or tiny for --smoke"
    from clothembed.train import default_data
    from clothembed.synth import write_dataset
    if s is SMOKE or s.get('smoke'):
        p = Path(work) / 'bench_data'
        if not (p / 'ground_truth.json').exists(): shutil.rmtree(p, ignore_errors=True); write_dataset(p, 12, 2, 64, progress=False)
        return p
    from clothembed.bench import SETTINGS
    f = SETTINGS['full']; return default_data(f['designs'], f['photos'])

def stage_bench(s, work, res, save):
    "The full benchmark setting, one contender at a time through `run_bench`, saved after each"
    import clothembed.bench as B
    t0 = time.time(); root = _bench_data(s, work); res['data'] = str(root); res['data_seconds'] = round(time.time() - t0, 1); save()
    if s['bench_train']: B.SETTINGS['full']['train'].update(s['bench_train'])
    res.update(setting='full', train=B.SETTINGS['full']['train'], models={}, baselines=None)
    for name in (s['bench_only'] or list(B.contenders())):
        t1 = time.time()
        r = B.run_bench(Path(work) / 'bench', quick=False, data_root=root, only=[name], do_qmul=False, progress=lambda *a: None)
        res['models'][name] = r['models'][name]; res['baselines'] = r['baselines']; res['eval'] = r['eval']; res['real_baselines'] = r.get('real')
        res['models'][name]['stage_seconds'] = round(time.time() - t1, 1); save()
        (Path(work) / 'bench_last.md').write_text(B.bench_markdown({**r, 'models': res['models']}))

def stage_qmul(s, work, res, save):
    "QMUL shoes and chairs at the full setting (`qmul_bench`), when the data was copied beside the tree"
    import clothembed.bench as B
    q = B.find_qmul(s['qmul_root']) if s['qmul_root'] else None
    if q is None: res['skipped'] = f"no QMUL data at {s['qmul_root']}"; return
    kw = {**B.QMUL_RECIPE, **B.QMUL_FULL, **(s['qmul'] or {})}; res.update(root=str(q), config=kw)
    for c in (('shoes',) if s is SMOKE or s.get('smoke') else ('shoes', 'chairs')):
        res[c] = B.qmul_bench(q, c, Path(work) / 'qmul', **kw); save()

STAGES = dict(ceiling=stage_ceiling, pipeline=stage_pipeline, bench=stage_bench, qmul=stage_qmul)

def _exit_with_parent():
    "A child whose parent was killed (a test's timeout, Ctrl-C) ends too, rather than running on alone"
    import threading
    ppid = os.getppid()
    def watch():
        while True:
            time.sleep(2)
            if os.getppid() != ppid: os._exit(3)
    threading.Thread(target=watch, daemon=True).start()

def child(stage, settings, work, result):
    _exit_with_parent()
    res = dict(status='running'); save = lambda: write_json(res, result)
    t0 = time.time()
    try: STAGES[stage](settings, Path(work), res, save); res['status'] = 'done'
    except BaseException as e:
        res.update(status='error', error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc()[-3000:]); save(); raise
    finally: res['seconds'] = round(time.time() - t0, 1); save()

# ---------------------------------------------------------------------------------------------------- orchestration
def run_stage(stage, s, work, budget):
    "Run one stage in a child with `budget` seconds; its partial results survive a timeout"
    result = Path(work) / f"{stage}.json"; result.unlink(missing_ok=True)
    cfg = Path(work) / f"{stage}.settings.json"; write_json(s, cfg)
    cmd = [sys.executable, __file__, '--child', stage, '--settings', str(cfg), '--work', str(work), '--result', str(result)]
    t0 = time.time(); p = subprocess.Popen(cmd, start_new_session=True)
    def stop(*_): os.killpg(p.pid, signal.SIGKILL); sys.exit(130)
    old = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
    try: rc = p.wait(timeout=max(budget, 1))
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); p.wait(); rc = 'timeout'
    finally: signal.signal(signal.SIGTERM, old[0]); signal.signal(signal.SIGINT, old[1])
    res = json.loads(result.read_text()) if result.exists() else {}
    if rc == 'timeout': res['status'] = f"timeout after {budget} s (partial results above, if any)"
    elif rc != 0 and res.get('status') in (None, 'running'): res['status'] = f"child exited {rc}"
    res['wall_seconds'] = round(time.time() - t0, 1); res['budget_s'] = budget
    return res

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--smoke', action='store_true', help='tiny sizes on the CPU: proves the path in a minute or two')
    ap.add_argument('--work', default=None, help='working folder (data, cache, checkpoints); default ./gpu_bench_work')
    ap.add_argument('--total-s', type=float, default=None, help='wall-time budget of all stages together (default 480 s; --smoke 1000 s)')
    ap.add_argument('--stages', default='ceiling,pipeline,bench,qmul')
    ap.add_argument('--budget-scale', type=float, default=1.0, help='multiply every stage budget and the total (a slow or shared machine)')
    ap.add_argument('--bench-epochs', type=int, default=None, help='epochs per benchmark model (default: the full setting\'s 20)')
    ap.add_argument('--qmul-root', default=os.environ.get('CLOTHEMBED_QMUL') or str(ROOT.parent / 'shared' / 'data' / 'qmul_sbir'))
    ap.add_argument('--out', default=os.environ.get('OUT') or '.', help='folder for gpu_bench.json (default $OUT, else .)')
    ap.add_argument('--child'); ap.add_argument('--settings'); ap.add_argument('--result')
    a = ap.parse_args(argv)
    if a.child:
        s = json.loads(Path(a.settings).read_text())
        if s.get('smoke'): s = {**SMOKE, **s}
        return child(a.child, s, a.work, a.result)
    T0 = time.time()
    if a.total_s is None: a.total_s = (1000 if a.smoke else 480) * a.budget_scale
    s = dict(SMOKE if a.smoke else FULL, smoke=a.smoke, qmul_root=a.qmul_root)
    if a.bench_epochs: s['bench_train'] = {**(s['bench_train'] or {}), 'epochs': a.bench_epochs}
    work = Path(a.work or 'gpu_bench_work').resolve(); work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault('CLOTHEMBED_CACHE', str(work / 'cache'))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True); dest = out / 'gpu_bench.json'
    report = dict(script='benchmarks/gpu/run.py', smoke=a.smoke, started=time.strftime('%Y-%m-%dT%H:%M:%S'), settings=s, stages={})
    try: report['environment'] = environment()
    except Exception as e: report['environment'] = dict(error=f"{type(e).__name__}: {e}")
    write_json(report, dest)
    for st in a.stages.split(','):
        left = a.total_s - (time.time() - T0)
        budget = int(min(s['budgets'][st] * a.budget_scale, left - 5))
        if budget < 10: report['stages'][st] = dict(status='skipped: total time budget spent'); write_json(report, dest); continue
        print(f"== {st} (budget {budget} s)", flush=True)
        report['stages'][st] = r = run_stage(st, s, work, budget)
        print(f"   {st}: {r.get('status')} in {r.get('wall_seconds')} s", flush=True)
        write_json(report, dest)
    c, p = report['stages'].get('ceiling', {}), report['stages'].get('pipeline', {})
    if c.get('images_per_s') and p.get('images_per_s'):
        report['pipeline_to_ceiling'] = round(p['images_per_s'] / c['images_per_s'], 3)
    report['total_seconds'] = round(time.time() - T0, 1)
    write_json(report, dest)
    if (work / 'bench_last.md').exists(): shutil.copy(work / 'bench_last.md', out / 'bench.md')
    summary = dict(ceiling_images_per_s=c.get('images_per_s'), pipeline_images_per_s=p.get('images_per_s'),
                   ratio=report.get('pipeline_to_ceiling'), stages={k: v.get('status') for k, v in report['stages'].items()})
    print(json.dumps(summary, indent=1)); print(f"wrote {dest}")
    return report

if __name__ == '__main__': main()
