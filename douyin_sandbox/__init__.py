"""A faithful sandbox of the Douyin shop open platform, for development, tests, the demo and benchmarks.

A separate Flask app: the gateway protocol (signatures, timestamps, envelopes, tokens) over an
in-memory shop generated from a seed, plain-JSON control endpoints under /sandbox/, signed pushes
to a webhook, and fault switches. See serve.py to run it.
"""

from douyin_sandbox.app import create_sandbox_app
from douyin_sandbox.config import SandboxConfig
from douyin_sandbox.runtime import Sandbox
from douyin_sandbox.serve import SandboxServer, serve_sandbox
from douyin_sandbox.shop import SandboxShop, TransitionError

__all__ = [
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "SandboxShop",
    "TransitionError",
    "create_sandbox_app",
    "serve_sandbox",
]
