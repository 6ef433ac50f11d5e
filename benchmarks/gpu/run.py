"""The paper's recipe and the full benchmark at GPU speed, in one script with a time budget per stage.

    python benchmarks/gpu/run.py [--smoke] [--work DIR] [--total-s 530]     (normally through run.sh, which installs first)

Stages, each in a child process with its own time limit, so that the JSON is always written (a stage cut short keeps what
it had saved, and says so in its status):
  ceiling   the model alone: a training step (forward, backward, SGD) of the paper's Siamese ResNeXt-50 32x4d at 224 px,
            bf16 autocast, channels-last, on random tensors already on the GPU: images/s
  pipeline  `--recipe paper` end to end: synthetic data made by `write_dataset` on every core,
            the item cache, the fastai Learner, a checkpoint every epoch; images/s in the steady state of the training
            batches (first batches of each epoch, validation and checkpoints excluded), its ratio to the ceiling, and the
            phases of the whole fit (setup and item cache, training, validation, checkpoints)
  profile   where a training batch's time goes, on the pipeline's data: data loading, host -> device copy, batch
            transforms (augmentation), forward, loss, backward, optimiser step, callbacks; timed with a device sync at
            each edge, then free-running (images/s), for fastai as it was (`cuda_speedups` only) and as `build_learner`
            builds it now (`gpu_speedups`); plus the torch profiler's top operations for a few batches
  qmul      QMUL shoes and chairs with `QMUL_RECIPE` (`qmul_bench`), when the data was copied beside the tree
  bench     the default recipe's full benchmark setting (1000 designs, 128 px, `clothembed.bench.run_bench`), each contender
            in a process of its own, run side by side (the GPU is far from busy with one), saved as each finishes; the
            real-photo part of `run_bench` is asked for whatever it is called (`--bench-kwargs` passes more)
Writes gpu_bench.json (figures and environment) to $OUT when set, else to the working folder.
"""
import argparse, json, os, platform, shutil, signal, subprocess, sys, time, traceback
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FULL = dict(encoder='resnext50_32x4d', size=224, bs=200, steps=30, warm=5, designs=1500, photos=4, epochs=3,
            budgets=dict(ceiling=45, pipeline=100, profile=60, qmul=110, bench=200),
            bench_train=dict(extra_designs=1000), bench_only=None, bench_parallel=2, qmul=None,   # fewer extra designs: made by one process
            profile=dict(warm=3, batches=10, torch_batches=4, workers=None))
SMOKE = dict(encoder='resnext50_32x4d', size=32, bs=4, steps=3, warm=1, designs=16, photos=2, epochs=2,
             budgets=dict(ceiling=120, pipeline=300, profile=200, qmul=300, bench=300),   # generous: a shared 2-core CI machine
             bench_train=dict(size=32, epochs=1, bs=8, extra_designs=8), bench_only=['synthetic recipe: siamese grayscale_mask', 'synthetic recipe: dual photo ↔ line drawing'],
             bench_parallel=2, qmul=dict(size=64, epochs=1, bs=16, trunk_views=1),
             profile=dict(warm=1, batches=2, torch_batches=1, workers=2))   # on the CPU the fixed path is forced, to prove it
ORDER = 'ceiling,pipeline,profile,qmul,bench'

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

def _paper_cfg(s, root, work, run_id):
    "exactly what `clothembed-train --recipe paper --pretrained 0 --freeze_encoder_until_it 0` builds: the encoder is trained from the first batch, as the ceiling's step is (frozen, the first 1000 iterations cost much less)"
    from clothembed.train import TrainConfig
    return TrainConfig.paper(run_id=run_id, dataset_name='deepfashion', data_root=str(root), pretrained=False, freeze_encoder_until_it=0,
                             epochs=s['epochs'], bs=s['bs'], size=s['size'], encoder=s['encoder'], out=str(work))

def _paper_data(s, work):
    "The paper pipeline's synthetic data: made once, by the pipeline stage or, without it, by the first stage that needs it"
    root = Path(work) / 'paper_data'
    if (root / 'ground_truth.json').exists(): return root, dict(reused=str(root))
    return _synth(s, work, s['size'], s['designs'], 'paper_data')

def stage_pipeline(s, work, res, save):
    "The paper's recipe through `train`: the timing callback rides along as one of fastai's default callbacks"
    import torch
    import fastai.learner
    from fastai.callback.core import Callback
    from clothembed.train import train, ckpt_file
    root, gen = _paper_data(s, work); res['data'] = gen; save()
    cuda = torch.cuda.is_available(); sync = torch.cuda.synchronize if cuda else (lambda: None)
    T0 = time.perf_counter(); phases = dict(train=0., validate=0., after_epoch=0., first_batches=0.)
    class SteadyTimer(Callback):
        "Per epoch: time from the end of the warm-up batches to the end of the training batches (one sync at each end); and the fit's phases"
        order, epochs = 100, []
        def before_fit(self): phases['setup'] = time.perf_counter() - T0   # data, item cache, model, learner, optimiser
        def before_train(self): self.t = None; self.n = 0; self.imgs = 0; self.t_train = time.perf_counter()
        def after_batch(self):
            if not self.training: return
            if self.iter == s['warm'] - 1: sync(); self.t = time.perf_counter(); phases['first_batches'] += self.t - self.t_train
            elif self.t is not None: self.n += 1; self.imgs += 2 * len(self.learn.yb[0])
        def after_train(self):
            sync(); phases['train'] += time.perf_counter() - self.t_train
            if self.t is None or not self.n: return
            dt = time.perf_counter() - self.t
            self.epochs.append(dict(epoch=self.epoch, batches=self.n, images=self.imgs, seconds=round(dt, 3), images_per_s=round(self.imgs / dt, 1)))
        def before_validate(self): self.t_val = time.perf_counter()
        def after_validate(self): phases['validate'] += time.perf_counter() - self.t_val; self.t_end = time.perf_counter()
        def after_epoch(self): phases['after_epoch'] += time.perf_counter() - getattr(self, 't_end', time.perf_counter())   # checkpoint, log
    timer = SteadyTimer
    fastai.learner.defaults.callbacks = list(fastai.learner.defaults.callbacks) + [SteadyTimer]
    cfg = _paper_cfg(s, root, work, 'paper_e2e')
    t0 = time.time(); learn = train(cfg, restore=False, quiet=True); wall = time.time() - t0
    ck = ckpt_file(cfg); meta = json.loads(ck.with_suffix('.json').read_text())
    steady = [e for e in timer.epochs if e['epoch'] > 0] or timer.epochs
    imgs, secs = sum(e['images'] for e in steady), sum(e['seconds'] for e in steady)
    n_train = len(learn.dls.train) * 2 * cfg.bs * cfg.epochs
    phases['fit'] = wall; phases = {k: round(v, 2) for k, v in phases.items()}
    res.update(recipe='paper', config={k: getattr(cfg, k) for k in ('encoder', 'size', 'bs', 'recipe', 'schedule', 'sampler', 'loss', 'lr', 'epochs', 'frozen_blocks', 'freeze_encoder_until_it', 'augment', 'pretrained')},
               images_per_s=round(imgs / secs, 1) if secs else None, per_epoch=timer.epochs, fit_seconds=round(wall, 1),
               whole_fit_images_per_s=round(n_train / wall, 1), checkpoint=str(ck), checkpoint_epoch=meta['epoch'], phases_seconds=phases,
               loaders=_loader_facts(learn), optimiser=type(learn.opt).__name__,
               final_metrics={n: float(v) for n, v in zip(learn.recorder.metric_names[1:], learn.recorder.log[1:]) if n != 'time' and v is not None})

def _loader_facts(learn):
    return {n: dict(batches=len(dl), workers=dl.fake_l.num_workers, pin_memory=bool(dl.pin_memory)) for n, dl in zip(('train', 'valid'), learn.dls.loaders)}

SECTIONS = ('load', 'h2d_copy', 'batch_tfms', 'forward', 'loss', 'backward', 'optimiser', 'callbacks')

def _profile_pass(learn, p, sync_each:bool, torch_prof=None):
    "Train `p['warm']` + `p['batches']` batches (validation skipped); per measured batch, each section's seconds when `sync_each`"
    import torch
    import fastai.data.load as L
    from fastai.callback.core import Callback, CancelFitException, CancelValidException
    cuda = next(learn.model.parameters()).is_cuda
    sync = torch.cuda.synchronize if cuda and sync_each else (lambda: None)
    st = dict(t=None, rows=[], types=None)
    def stamp(): sync(); return time.perf_counter()
    dl = learn.dls.train; to_dev, tfms = L.to_device, dl.after_batch
    def timed_to_device(b, *a, **k):
        st['t1'] = stamp(); r = to_dev(b, *a, **k); st['t2'] = stamp(); return r
    def timed_tfms(b):
        r = tfms(b); st['t3'] = stamp(); return r
    class First(Callback):
        order = -10**6
        def after_pred(self): st['t5'] = stamp()
        def after_loss(self): st['t6'] = stamp()
        def after_backward(self): st['t8'] = stamp()
        def after_step(self): st['t10'] = stamp()
        def before_validate(self): raise CancelValidException()
    class Last(Callback):
        order = 10**6
        def before_train(self): sync(); st['t'] = time.perf_counter()
        def before_batch(self): st['t4'] = stamp()
        def before_backward(self): st['t7'] = stamp()
        def before_step(self): st['t9'] = stamp()
        def after_batch(self):
            if not self.training: return
            t11 = stamp() if sync_each else time.perf_counter()
            if self.iter >= p['warm']:   # each epoch's first batches wait for the loader to start
                r = dict(images=sum(len(x) for x in self.learn.xb), total=t11 - st['t'])
                if sync_each:
                    t = st
                    r.update(load=t['t1'] - t['t'], h2d_copy=t['t2'] - t['t1'], batch_tfms=t['t3'] - t['t2'], forward=t['t5'] - t['t4'],
                             loss=t['t6'] - t['t5'], backward=t['t8'] - t['t7'], optimiser=t['t10'] - t['t9'],
                             callbacks=(t['t4'] - t['t3']) + (t['t7'] - t['t6']) + (t['t9'] - t['t8']) + (t11 - t['t10']))
                st['rows'].append(r)
                st['types'] = [type(x).__name__ for x in (*self.learn.xb, *self.learn.yb)]
            if torch_prof is not None and self.iter >= p['warm']: torch_prof.step()
            st['t'] = t11
            if len(st['rows']) >= p['batches']: raise CancelFitException()
    L.to_device, dl.after_batch = timed_to_device, timed_tfms
    try:
        n_ep = 1 + (p['warm'] + p['batches']) // max(1, len(dl) - p['warm'])
        learn.fit(n_ep + 1, 1e-3, cbs=[First(), Last()])   # the rate is no matter here; the data's batches are
    finally: L.to_device, dl.after_batch = to_dev, tfms
    if not st['rows']: raise RuntimeError('no batch measured')
    rows = st['rows']; n = sum(r['images'] for r in rows); secs = sum(r['total'] for r in rows)
    out = dict(batches=len(rows), images=n, seconds=round(secs, 3), images_per_s=round(n / secs, 1), batch_types=st['types'])
    if sync_each:
        ms = {k: 1e3 * sum(r[k] for r in rows) / len(rows) for k in SECTIONS}; tot = sum(ms.values())
        out.update(ms_per_batch={k: round(v, 2) for k, v in ms.items()}, share={k: round(v / tot, 3) for k, v in ms.items()},
                   sum_of_sections_ms=round(tot, 2))
    return out

def stage_profile(s, work, res, save):
    "Where a training batch's time goes, for fastai as it was (`cuda_speedups` alone) and as `build_learner` builds it now"
    import torch
    import clothembed.train as T
    from fastai.callback.progress import ProgressCallback
    root, gen = _paper_data(s, work); res.update(data=gen, sections=list(SECTIONS), variants={}); save()
    p = s['profile']; cuda = torch.cuda.is_available()
    torch.backends.cudnn.benchmark = True
    cfg = _paper_cfg(s, root, work, 'profile')
    res['note'] = ('sections are timed with a device sync at each edge (attributed), which removes the overlap of CPU and GPU: '
                   'their sum exceeds the free-running time per batch; images_per_s is free-running (one sync per batch, as fastai\'s loss logging)')
    def as_before(learn, precision='auto', **kw): return T.cuda_speedups(learn, precision)
    variants = dict(fastai_as_before=as_before, gpu_speedups=T.gpu_speedups)
    if os.environ.get('CLOTHEMBED_COMPILE') == '1': variants['gpu_speedups_compiled'] = partial(T.gpu_speedups, compile=True)
    for name, speedups in variants.items():
        t0 = time.time(); real = T.gpu_speedups
        T.gpu_speedups = speedups   # what build_learner calls on CUDA
        try:
            learn = T.build_learner(cfg, progress=False)
            if not cuda and name != 'fastai_as_before':   # no GPU (--smoke): force the GPU path's loaders and optimiser, to prove them
                T.loader_workers(learn.dls, p['workers'], min_batches=2); learn.opt_func = T.foreach_opt_func(learn.opt_func)
        finally: T.gpu_speedups = real
        learn.remove_cb(ProgressCallback); learn.logger = lambda *a, **k: None
        learn.create_opt()
        v = res['variants'][name] = dict(optimiser=type(learn.opt).__name__, loaders=_loader_facts(learn),
                                          callbacks=[type(c).__name__ for c in learn.cbs], setup_seconds=round(time.time() - t0, 1))
        v['attributed'] = _profile_pass(learn, p, True); save()
        v['free_running'] = _profile_pass(learn, p, False); save()
        if p.get('torch_batches') and name == 'gpu_speedups':
            v['torch_profiler_top'] = _torch_profile(learn, p, work); save()
        del learn
        if cuda: torch.cuda.empty_cache()
    b, a = (res['variants'][k]['free_running']['images_per_s'] for k in ('fastai_as_before', 'gpu_speedups'))
    res['speedup_free_running'] = round(a / b, 3)

def _torch_profile(learn, p, work, rows:int=15):
    "The torch profiler over a few batches: the operations with the most time of their own (device time on a GPU)"
    import torch
    from torch.profiler import profile, ProfilerActivity, schedule
    cuda = next(learn.model.parameters()).is_cuda
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    q = dict(p, batches=1 + p['torch_batches'])   # the first measured batch warms the profiler up, the next are recorded
    with profile(activities=acts, schedule=schedule(wait=0, warmup=1, active=p['torch_batches'], repeat=1)) as prof:
        _profile_pass(learn, q, False, torch_prof=prof)
    ka = prof.key_averages()
    dev = lambda e: getattr(e, 'self_device_time_total', getattr(e, 'self_cuda_time_total', 0))
    key = dev if cuda else (lambda e: e.self_cpu_time_total)
    try:   # the whole table beside the JSON; the name of the device column has changed across torch versions
        by = ('self_device_time_total' if hasattr(ka[0], 'self_device_time_total') else 'self_cuda_time_total') if cuda else 'self_cpu_time_total'
        (Path(work) / 'torch_profile.txt').write_text(ka.table(sort_by=by, row_limit=40))
    except Exception as e: (Path(work) / 'torch_profile.txt').write_text(f"no table: {type(e).__name__}: {e}")
    return [dict(name=e.key, calls=e.count, self_cpu_ms=round(e.self_cpu_time_total / 1e3, 2), self_device_ms=round(dev(e) / 1e3, 2))
            for e in sorted(ka, key=key, reverse=True)[:rows]]

def _bench_data(s, work):
    "The benchmark's dataset, as `default_data` makes it (1000 designs, 128 px) or tiny for --smoke"
    from clothembed.synth import default_data
    from clothembed.synth import write_dataset
    if s is SMOKE or s.get('smoke'):
        p = Path(work) / 'bench_data'
        if not (p / 'ground_truth.json').exists(): shutil.rmtree(p, ignore_errors=True); write_dataset(p, 12, 2, 64, progress=False)
        return p
    from clothembed.bench import SETTINGS
    f = SETTINGS['full']; return default_data(f['designs'], f['photos'])

REAL_PHOTO_ARGS = ('clothing_small', 'do_clothing_small', 'real_photos', 'do_real_photos', 'clothing')   # what the real-photo part may be called

def _bench_kwargs(s):
    "`run_bench`'s real-photo part (its present name, if any of these), and what `--bench-kwargs` adds"
    import inspect
    import clothembed.bench as B
    sig = inspect.signature(B.run_bench).parameters
    kw = {k: True for k in REAL_PHOTO_ARGS if k in sig and sig[k].default in (False, None)}
    if 'do_real' in sig: kw['do_real'] = True
    return {**kw, **(s.get('bench_kwargs') or {})}

def bench_one(s, work, name, dest):
    "One contender through `run_bench` (a process of its own): its results in `dest`"
    import clothembed.bench as B
    if s['bench_train']: B.SETTINGS['full']['train'].update(s['bench_train'])
    root = _bench_data(s, work); t1 = time.time(); out = Path(work) / 'bench' / ''.join(c if c.isalnum() else '_' for c in name)
    r = B.run_bench(out, quick=False, data_root=root, only=[name], do_qmul=False, progress=lambda *a: None, **_bench_kwargs(s))
    r['models'][name]['stage_seconds'] = round(time.time() - t1, 1)
    write_json(r, dest)

def _smoke_clothing(work, per_kind:int=3):
    "--smoke: a few clothing_small photos per kind and split, linked (not copied) under `work`, so the real-photo part runs in seconds"
    import clothembed.bench as B
    src = B.find_clothing_small()
    if src is None: return None
    dst = Path(work) / 'clothing_small_smoke'; shutil.rmtree(dst, ignore_errors=True)
    for split in ('train', 'validation', 'test'):
        for kind in sorted(p for p in (src / split).iterdir() if p.is_dir()):
            (dst / split / kind.name).mkdir(parents=True)
            for f in sorted(kind.iterdir())[:per_kind]: (dst / split / kind.name / f.name).symlink_to(f.resolve())
    return dst

def stage_bench(s, work, res, save):
    "The full benchmark setting: each contender in a process of its own, `bench_parallel` at a time, saved as each finishes"
    import clothembed.bench as B
    t0 = time.time(); root = _bench_data(s, work); res['data'] = str(root); res['data_seconds'] = round(time.time() - t0, 1)
    if s is SMOKE or s.get('smoke'):   # the 224 px real-photo baselines over the whole of clothing_small take minutes on a CPU
        cs = _smoke_clothing(work)
        if cs is not None: os.environ['CLOTHEMBED_CLOTHING_SMALL'] = str(cs); res['clothing_small'] = str(cs)
    if s['bench_train']: B.SETTINGS['full']['train'].update(s['bench_train'])
    names = s['bench_only'] or list(B.contenders())
    n_par = max(1, min(s.get('bench_parallel') or 1, len(names)))
    res.update(setting='full', train=B.SETTINGS['full']['train'], models={}, baselines=None, parallel=n_par, run_bench_kwargs=_bench_kwargs(s))
    save()
    env = dict(os.environ)   # the loader workers of the processes side by side share the cores
    env.setdefault('CLOTHEMBED_WORKERS', str(max(1, ((os.cpu_count() or 2) - n_par) // n_par)))
    cfg = Path(work) / 'bench.settings.json'; write_json(s, cfg)
    known = {'models', 'baselines', 'eval', 'real', 'setting', 'data', 'train', 'seeds', 'device', 'ablation', 'qmul', 'total_seconds'}
    dests = {n: Path(work) / f"bench_one_{i}.json" for i, n in enumerate(names)}
    for d in dests.values(): d.unlink(missing_ok=True)
    todo, running = list(names), {}
    while todo or running:
        while todo and len(running) < n_par:
            name = todo.pop(0)
            cmd = [sys.executable, __file__, '--bench-one', name, '--settings', str(cfg), '--work', str(work), '--result', str(dests[name])]
            running[name] = subprocess.Popen(cmd, env=env)
        time.sleep(0.5)
        for name, proc in list(running.items()):
            if proc.poll() is None: continue
            del running[name]
            if proc.returncode or not dests[name].exists():
                res['models'][name] = dict(status=f"error: exit {proc.returncode}"); save(); continue
            r = json.loads(dests[name].read_text())
            res['models'][name] = r['models'][name]; res['baselines'] = r['baselines']; res['eval'] = r['eval']; res['real_baselines'] = r.get('real')
            res.update({f"run_bench_{k}": v for k, v in r.items() if k not in known})   # a new part of run_bench (the real-photo one)
            save()
            done = {k: v for k, v in res['models'].items() if 'status' not in v}
            (Path(work) / 'bench_last.md').write_text(B.bench_markdown({**r, 'models': done}))
    if any('status' in v for v in res['models'].values()): raise RuntimeError('a contender failed: see its status')

def stage_qmul(s, work, res, save):
    "QMUL shoes and chairs with `QMUL_RECIPE` (`qmul_bench`), when the data was copied beside the tree"
    import clothembed.bench as B
    q = B.find_qmul(s['qmul_root']) if s['qmul_root'] else None
    if q is None: res['skipped'] = f"no QMUL data at {s['qmul_root']}"; return
    kw = {**B.QMUL_RECIPE, **(s['qmul'] or {})}; res.update(root=str(q), config=kw)
    for c in (('shoes',) if s is SMOKE or s.get('smoke') else ('shoes', 'chairs')):
        res[c] = B.qmul_bench(q, c, Path(work) / 'qmul', **kw); save()

STAGES = dict(ceiling=stage_ceiling, pipeline=stage_pipeline, profile=stage_profile, qmul=stage_qmul, bench=stage_bench)

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
def run_stage(stage, s, work, budget, on_signal=None):
    "Run one stage in a child with `budget` seconds; its partial results survive a timeout, and a signal to this process"
    result = Path(work) / f"{stage}.json"; result.unlink(missing_ok=True)
    cfg = Path(work) / f"{stage}.settings.json"; write_json(s, cfg)
    cmd = [sys.executable, __file__, '--child', stage, '--settings', str(cfg), '--work', str(work), '--result', str(result)]
    t0 = time.time(); p = subprocess.Popen(cmd, start_new_session=True)
    def partial_result(status):
        res = json.loads(result.read_text()) if result.exists() else {}
        if status or res.get('status') in (None, 'running'): res['status'] = status or res.get('status')
        res['wall_seconds'] = round(time.time() - t0, 1); res['budget_s'] = budget
        return res
    def stop(signum, _):
        os.killpg(p.pid, signal.SIGKILL)
        if on_signal: on_signal(partial_result(f"killed: this script got signal {signum} (partial results above, if any)"))
        sys.exit(130)
    old = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
    try: rc = p.wait(timeout=max(budget, 1))
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); p.wait(); rc = 'timeout'
    finally: signal.signal(signal.SIGTERM, old[0]); signal.signal(signal.SIGINT, old[1])
    if rc == 'timeout': return partial_result(f"timeout after {budget} s (partial results above, if any)")
    res = partial_result(None)
    if rc != 0 and res.get('status') in (None, 'running'): res['status'] = f"child exited {rc}"
    return res

HEADLINE_KEYS = ('images_per_s', 'speedup_free_running', 'fit_seconds', 'data_seconds')

def stage_line(stage, r) -> dict:
    "One line for stages.jsonl: the stage, its status and time, and its headline figures"
    line = dict(stage=stage, status=r.get('status'), wall_seconds=r.get('wall_seconds'), budget_s=r.get('budget_s'))
    line.update({k: r[k] for k in HEADLINE_KEYS if k in r})
    if stage == 'bench': line['models'] = {n: m.get('status') or {k: m.get(k) for k in ('precision_at_1', 'map_at_r', 'train_seconds')} for n, m in (r.get('models') or {}).items()}
    if stage == 'qmul': line.update({c: r[c]['model'] for c in ('shoes', 'chairs') if isinstance(r.get(c), dict) and 'model' in r[c]})
    if stage == 'profile':
        line['variants'] = {n: dict(images_per_s=v.get('free_running', {}).get('images_per_s'), ms_per_batch=v.get('attributed', {}).get('ms_per_batch'))
                            for n, v in (r.get('variants') or {}).items()}
    return line

def default_out(smoke:bool) -> Path:
    "$OUT (a device machine's folder that comes back), else benchmarks/gpu/results/<time>_<gpu or cpu>, else (--smoke) ./gpu_bench_out"
    if os.environ.get('OUT'): return Path(os.environ['OUT'])
    if smoke: return Path('gpu_bench_out')
    return HERE / 'results' / time.strftime('run_%Y-%m-%dT%H%M%S')

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--smoke', action='store_true', help='tiny sizes on the CPU: proves the path in a minute or two')
    ap.add_argument('--work', default=None, help='working folder (data, cache, checkpoints); default ./gpu_bench_work')
    ap.add_argument('--total-s', type=float, default=None, help='wall-time budget of all stages together (default 510 s; --smoke 1000 s)')
    ap.add_argument('--stages', default=ORDER, help=f'stages to run, in order (default {ORDER})')
    ap.add_argument('--budget-scale', type=float, default=1.0, help='multiply every stage budget and the total (a slow or shared machine)')
    ap.add_argument('--bench-epochs', type=int, default=None, help='epochs per benchmark model (default: the full setting\'s steps)')
    ap.add_argument('--bench-parallel', type=int, default=None, help='benchmark contenders trained side by side (default 2)')
    ap.add_argument('--bench-kwargs', default=None, help='JSON of more keyword arguments for run_bench (e.g. its real-photo part)')
    ap.add_argument('--compile', action='store_true', help='torch.compile the model in every training stage (CLOTHEMBED_COMPILE=1); the profile adds a compiled variant')
    ap.add_argument('--qmul-root', default=os.environ.get('CLOTHEMBED_QMUL') or str(ROOT.parent / 'shared' / 'data' / 'qmul_sbir'))
    ap.add_argument('--out', default=None, help='folder for gpu_bench.json and stages.jsonl (default $OUT, else benchmarks/gpu/results/run_<time>; --smoke: ./gpu_bench_out)')
    ap.add_argument('--child'); ap.add_argument('--settings'); ap.add_argument('--result'); ap.add_argument('--bench-one')
    a = ap.parse_args(argv)
    if a.child or a.bench_one:
        s = json.loads(Path(a.settings).read_text())
        if s.get('smoke'): s = {**SMOKE, **s}
        if a.bench_one: _exit_with_parent(); return bench_one(s, Path(a.work), a.bench_one, Path(a.result))
        return child(a.child, s, a.work, a.result)
    T0 = time.time()
    if a.total_s is None: a.total_s = (1000 if a.smoke else 510) * a.budget_scale
    s = dict(SMOKE if a.smoke else FULL, smoke=a.smoke, qmul_root=a.qmul_root)
    if a.bench_epochs: s['bench_train'] = {**(s['bench_train'] or {}), 'epochs': a.bench_epochs}
    if a.bench_parallel: s['bench_parallel'] = a.bench_parallel
    if a.bench_kwargs: s['bench_kwargs'] = json.loads(a.bench_kwargs)
    if a.compile: os.environ['CLOTHEMBED_COMPILE'] = '1'
    work = Path(a.work or 'gpu_bench_work').resolve(); work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault('CLOTHEMBED_CACHE', str(work / 'cache'))
    out = Path(a.out) if a.out else default_out(a.smoke); out.mkdir(parents=True, exist_ok=True); dest = out / 'gpu_bench.json'
    lines = out / 'stages.jsonl'; lines.unlink(missing_ok=True)
    report = dict(script='benchmarks/gpu/run.py', smoke=a.smoke, started=time.strftime('%Y-%m-%dT%H:%M:%S'), settings=s, stages={},
                  compile=a.compile)
    try: from clothembed.bench import source_commit; report['commit'] = source_commit() or os.environ.get('CLOTHEMBED_COMMIT')   # a copy without .git: name it
    except Exception as e: report['commit'] = None
    try: report['environment'] = environment()
    except Exception as e: report['environment'] = dict(error=f"{type(e).__name__}: {e}")
    write_json(report, dest)
    def record(st, r):
        report['stages'][st] = r; write_json(report, dest)
        with open(lines, 'a') as f: f.write(json.dumps(stage_line(st, r), default=str) + '\n')
    for st in a.stages.split(','):
        left = a.total_s - (time.time() - T0)
        budget = int(min(s['budgets'][st] * a.budget_scale, left - 5))
        if budget < 10: record(st, dict(status='skipped: total time budget spent')); continue
        print(f"== {st} (budget {budget} s)", flush=True)
        r = run_stage(st, s, work, budget, on_signal=lambda r, st=st: record(st, r))
        record(st, r)
        print(f"   {st}: {r.get('status')} in {r.get('wall_seconds')} s", flush=True)
    c, p = report['stages'].get('ceiling', {}), report['stages'].get('pipeline', {})
    if c.get('images_per_s') and p.get('images_per_s'):
        report['pipeline_to_ceiling'] = round(p['images_per_s'] / c['images_per_s'], 3)
    pr = report['stages'].get('profile', {}).get('variants', {})
    if c.get('images_per_s') and pr:
        report['profile_to_ceiling'] = {n: round(v['free_running']['images_per_s'] / c['images_per_s'], 3) for n, v in pr.items() if 'free_running' in v}
    report['total_seconds'] = round(time.time() - T0, 1)
    write_json(report, dest)
    if (work / 'bench_last.md').exists(): shutil.copy(work / 'bench_last.md', out / 'bench.md')
    summary = dict(ceiling_images_per_s=c.get('images_per_s'), pipeline_images_per_s=p.get('images_per_s'),
                   ratio=report.get('pipeline_to_ceiling'), profile_to_ceiling=report.get('profile_to_ceiling'),
                   stages={k: v.get('status') for k, v in report['stages'].items()})
    print(json.dumps(summary, indent=1)); print(f"wrote {dest} and {lines}")
    return report

if __name__ == '__main__': main()
