"""clothembed: texture-invariant, structure-sensitive embeddings for images of clothing"""
__version__ = "0.1.0"
