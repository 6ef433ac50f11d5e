"""`clothembed-train` as a script for `accelerate launch` and `torchrun`, with the several-process fixes of dist_shim.

    accelerate launch --multi_gpu --num_processes 2 benchmarks/gpu/train_entry.py --run_id r --epochs 2 ...     # GPUs, or CPUs (gloo)
    torchrun --nproc_per_node 2 benchmarks/gpu/train_entry.py --run_id r --epochs 2 ...                          # the same without Accelerate's launcher

Once clothembed/train.py ends with `if __name__ == '__main__' and not IN_NOTEBOOK: train_cli()` and holds the fixes,
`-m clothembed.train` replaces this file."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_shim  # noqa: F401  (applies the fixes)
from clothembed.train import train_cli

if __name__ == '__main__': train_cli()
