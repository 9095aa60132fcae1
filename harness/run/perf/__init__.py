"""Measurement during the run: GPU memory (NVML), vLLM ``/metrics``, server logs, load sweeps."""
