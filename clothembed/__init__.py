"""clothembed: texture-invariant, structure-sensitive embeddings for images of clothing"""
__version__ = "0.1.0"
import warnings as _w   # fastai 2.8's layers call torch.jit.script, deprecated in torch 2.9+: not the user's concern
_w.filterwarnings('ignore', message=r'`torch\.jit\.script` is deprecated', category=FutureWarning)
