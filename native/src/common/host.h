// What the host machine is: its CPU's name and the memory still free.
#pragma once
#include <cstdint>
#include <string>

namespace adamas {

// The CPU's model name (/proc/cpuinfo), or "cpu" where it cannot be read.
std::string cpu_model_name();

// Bytes of memory the system can still give without swapping (MemAvailable in /proc/meminfo;
// the physical pages free where that cannot be read).
uint64_t available_memory_bytes();

// Throws InvalidArgument when `need` bytes for `what` exceed `available`, naming both (in bytes
// and GB) and `hint`.
void check_fits_in_memory(const std::string& what, uint64_t need, uint64_t available, const std::string& hint);

}  // namespace adamas
