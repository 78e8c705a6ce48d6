"""Generator of the ``okx_ws`` package (models and clients) from ``spec/*.yaml``.

Run ``python -m codegen``; see :mod:`codegen.pipeline` for the stages.
"""
