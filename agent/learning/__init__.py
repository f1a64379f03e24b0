"""`ponder learn`: verified reasoning (examples.py, with tracer.py's exact traces) → a LoRA
adapter (train.py) → a llama.cpp adapter file (export.py). Every part runs offline; code from a
data set runs only confined (agent/confine.py)."""
