//! Assets (CMDB) part of the simulator.
