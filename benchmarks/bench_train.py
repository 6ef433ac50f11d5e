"""Train-step throughput: the fastai Learner against a bare PyTorch loop, same model, data, loss and optimiser.

    python benchmarks/bench_train.py [--steps 30] [--size 64] [--bs 64] [--encoder lite0] [--frozen-blocks 3]


"""
import argparse, os, time, tempfile
import torch
from fastai.callback.core import Callback, CancelFitException
from clothembed.train import TrainConfig, build_learner, pick_device
from clothembed.models import create_model, freeze_early
from clothembed.losses import get_loss

class StopAfter(Callback):
    "Stop fitting after `n` training batches, timing those after the first `warm`"
    def __init__(self, n, warm=3): self.n, self.warm = n, warm
    def after_batch(self):
        if not self.training: return
        if self.learn.train_iter == self.warm: self.t0 = time.perf_counter()
        if self.learn.train_iter >= self.n + self.warm: self.secs = time.perf_counter() - self.t0; raise CancelFitException

def fastai_rate(cfg, steps):
    learn = build_learner(cfg)
    from fastai.callback.progress import ProgressCallback
    learn.remove_cb(ProgressCallback); learn.logger = lambda *a, **k: None
    cb = StopAfter(steps); learn.fit(10 ** 6, 1e-3, cbs=cb)
    return steps * cfg.bs * 2 / cb.secs, learn.dls

def bare_rate(cfg, dls, steps):
    dev = pick_device(cfg.device)
    model = freeze_early(create_model(cfg.model_type, cfg.encoder, cfg.dim, cfg.pretrained), cfg.frozen_blocks).to(dev).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01)   # fastai's Adam: decoupled wd
    loss_fn = get_loss(cfg.loss, cfg.temperature, 'adjacent' if dls.train.sampler.adjacent else 'all'); n = 0
    while True:
        for b in dls.train:
            x, d, y = (t.as_subclass(torch.Tensor) for t in b)   # plain tensors, as a bare loop has
            if n == 3: t0 = time.perf_counter()
            loss = loss_fn(model(x, d), y); loss.backward(); opt.step(); opt.zero_grad(); n += 1
            if n == steps + 3:
                if dev.type == 'cuda': torch.cuda.synchronize()
                return steps * cfg.bs * 2 / (time.perf_counter() - t0)

def main(steps=30, size=64, bs=64, encoder='lite0', frozen_blocks=3, device=None):
    with tempfile.TemporaryDirectory() as d:
        cfg = TrainConfig(encoder=encoder, size=size, bs=bs, frozen_blocks=frozen_blocks, freeze_encoder_until_it=0, out=d, device=device, extra_designs=0)   # the default recipe's step
        fa, dls = fastai_rate(cfg, steps)
        bare = bare_rate(cfg, dls, steps)
    print(f"{encoder} at {size} px, batch {bs} pairs ({2 * bs} images), {frozen_blocks} frozen blocks, {steps} steps, device {pick_device(device)}, "
          f"{torch.get_num_threads()} threads")
    print(f"fastai Learner: {fa:.1f} images/s;  bare PyTorch loop: {bare:.1f} images/s;  fastai overhead: {100 * (bare - fa) / bare:.1f}%")

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=30); ap.add_argument('--size', type=int, default=64); ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--encoder', default='lite0'); ap.add_argument('--frozen-blocks', type=int, default=3); ap.add_argument('--device', default=None)
    a = ap.parse_args(); main(a.steps, a.size, a.bs, a.encoder, a.frozen_blocks, a.device)
