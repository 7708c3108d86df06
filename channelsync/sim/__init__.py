"""Platform simulators and fakes, shared by plugins, the sandbox, the demo and the tests.

``Simulator`` is the base a plugin's simulator subclasses (state, buyers, faults,
the ``/_sim/`` control API); ``fake`` is an in-memory channel; ``server`` serves a
simulator over HTTP on 127.0.0.1; ``sandbox`` serves every installed one.
"""

from channelsync.sim.simulator import (
    OutOfStock,
    Request,
    Response,
    SimAfterSale,
    SimLine,
    SimOrder,
    SimParcel,
    SimSku,
    Simulator,
)

__all__ = ["Simulator", "Request", "Response", "SimSku", "SimOrder", "SimLine", "SimParcel", "SimAfterSale",
           "OutOfStock"]
