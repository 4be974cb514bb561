#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Resources a hostile peer makes a host spend, against xtcp and TCP.

The scenarios live in pkt_attack.py (RESOURCE_SCENARIOS); this program
runs them on their own, with their own time limit: the CPU of a listener
lookup with thousands of connections on the port, TIME_WAIT memory under
churn, the write queue under SACKs of a tiny MSS, and orphans facing a
zero window (one, 1000, and beyond max_orphans). Each runs on xtcp and on
kernel TCP.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pkt_attack as A  # noqa: E402
import xtcp_pkt as P  # noqa: E402

if __name__ == "__main__":
    P.main(A.RESOURCE_SCENARIOS, stacks=["xtcp", "tcp"])
