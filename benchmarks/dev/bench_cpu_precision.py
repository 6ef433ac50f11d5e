"""Does bf16 autocast or channels-last speed up the default recipe's training step on this CPU?

    python benchmarks/dev/bench_cpu_precision.py [--steps 15] [--size 64] [--bs 64] [--encoder lite0] [--frozen-blocks 3]

The default recipe's model (Siamese Lite0, 3 frozen blocks), loss (contrastive) and optimiser (AdamW, as fastai's Adam
with decoupled weight decay) on random tensors, four ways: fp32, bf16 autocast, channels-last, both. Images/s, the median
of `--repeats` timed runs of `--steps` steps each, after warm-up steps. Also says whether bf16 changes the loss noticeably.
"""
import argparse, statistics, time
import torch
from clothembed.models import create_model, freeze_early
from clothembed.losses import get_loss

def rate(model, x1, x2, y, bf16, steps, warm=3, repeats=3):
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=0.01)
    loss_fn = get_loss('contrastive', 0.1)
    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): loss = loss_fn(model(x1, x2), y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True); return loss.item()
    for _ in range(warm): step()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps): step()
        rates.append(steps * 2 * len(x1) / (time.perf_counter() - t0))
    return statistics.median(rates), rates

def main(steps=15, size=64, bs=64, encoder='lite0', frozen_blocks=3, repeats=3):
    torch.manual_seed(0)
    x1, x2 = torch.randn(bs, 3, size, size), torch.randn(bs, 3, size, size); y = torch.randint(0, 2, (bs,))
    base = freeze_early(create_model('siamese', encoder, 256, pretrained=False), frozen_blocks).train()
    sd = {k: v.clone() for k, v in base.state_dict().items()}
    with torch.no_grad():
        l32 = get_loss('contrastive', 0.1)(base(x1, x2), y).item()
        with torch.autocast('cpu', dtype=torch.bfloat16): l16 = get_loss('contrastive', 0.1)(base(x1, x2), y).item()
    print(f"{encoder} at {size} px, batch {bs} pairs ({2 * bs} images), {frozen_blocks} frozen blocks, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}; first loss fp32 {l32:.4f}, bf16 {l16:.4f}")
    out = {}
    for name, bf16, cl in [('fp32', False, False), ('bf16 autocast', True, False), ('channels-last', False, True), ('bf16 + channels-last', True, True)]:
        model = freeze_early(create_model('siamese', encoder, 256, pretrained=False), frozen_blocks).train(); model.load_state_dict(sd)
        a, b = x1, x2
        if cl: model = model.to(memory_format=torch.channels_last); a, b = (t.contiguous(memory_format=torch.channels_last) for t in (x1, x2))
        med, rs = rate(model, a, b, y, bf16, steps, repeats=repeats); out[name] = med
        print(f"{name:22s} {med:8.1f} images/s   (runs: {', '.join(f'{r:.1f}' for r in rs)})", flush=True)
    best = max(out, key=out.get)
    print(f"fastest: {best} ({out[best] / out['fp32']:.2f}x fp32)")
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=15); ap.add_argument('--size', type=int, default=64); ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--encoder', default='lite0'); ap.add_argument('--frozen-blocks', type=int, default=3); ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args(); main(a.steps, a.size, a.bs, a.encoder, a.frozen_blocks, a.repeats)
