"""The channel simulator: a deterministic commerce world served through copies of each
channel's API (and file drops), with a clock, switchable faults and the world's truth.

It sits beside the library (`omnichannel`), never inside it: the simulator may read the
library's channel config, the library never imports the simulator. The CLI's `simulate`
and `demo` verbs and the tests wire the two together.
"""
