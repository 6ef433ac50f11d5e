"""Four fixes that let `train` run under `accelerate launch`/`torchrun` on CPUs (gloo) and write sound checkpoints there.

Temporary: each belongs in nbs/06_train.ipynb (see the issue 13 report); once it is there, drop it here. Importing this
module applies them to `clothembed.train` and fastai."""
import torch, fastai.distributed
from fastai.learner import Learner
from fastai.distributed import DistributedDL
from fastai.callback.progress import CSVLogger
from fastai.torch_core import rank_distrib
from clothembed import train as T

# 1. fastai's distrib_ctx: SyncBatchNorm exists only on GPUs, and Accelerate needs cpu=True to take the gloo backend
_distrib_ctx = Learner.distrib_ctx
def distrib_ctx(self, sync_bn=None, in_notebook=False, **kw):
    cpu = next(self.model.parameters()).device.type == 'cpu'
    if cpu: kw.setdefault('cpu', True)
    return _distrib_ctx(self, sync_bn=(not cpu) if sync_bn is None else sync_bn, in_notebook=in_notebook, **kw)
Learner.distrib_ctx = distrib_ctx

# 2. fastai broadcasts the shuffled indices as a CUDA tensor (NCCL); under gloo they must stay on the CPU
def _broadcast(self, t, rank):
    dev = 'cuda' if torch.distributed.get_backend() == 'nccl' else 'cpu'
    t = torch.tensor(t, dtype=torch.long, device=dev); torch.distributed.broadcast(t, rank); return t.cpu().tolist()
DistributedDL._broadcast = _broadcast

# 3. during fit the model is wrapped in DistributedDataParallel: checkpoint the bare model (no 'module.' in the names)
def _bare(m): return m.module if isinstance(m, torch.nn.parallel.DistributedDataParallel) else m
def after_epoch(self):
    if rank_distrib() == 0: T.save_checkpoint(self.path, _bare(self.learn.model), self.meta_fn(self.learn.epoch + 1), self.learn.opt)
T.CheckpointEveryEpoch.after_epoch = after_epoch

# 4. one CSV log, written by rank 0 (every rank opening the same file duplicates or truncates its lines)
_build_learner = T.build_learner
def build_learner(*a, **k):
    learn = _build_learner(*a, **k)
    if rank_distrib() > 0: learn.remove_cbs([cb for cb in learn.cbs if isinstance(cb, CSVLogger)])
    return learn
T.build_learner = build_learner
