"""Shipgate: the pre-ship refund gate for Douyin shop warehouses.

This small package holds what the server and the station share and nothing else:
the code classifier (`shipgate.codes`) and the wire contract (`shipgate.wire`).
It depends on the standard library only, so the bench station can import it.
"""

__version__ = "0.1.0"
