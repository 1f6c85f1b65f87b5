#include "common/host.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace adamas {

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
      return line.substr(line.find(':') + 2);
  return "cpu";
}

uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kib) == 1) return uint64_t(kib) * 1024;
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

void check_fits_in_memory(const std::string& what, uint64_t need, uint64_t available, const std::string& hint) {
  if (need <= available) return;
  auto gb = [](uint64_t b) {
    std::ostringstream s;
    s.precision(3);
    s << double(b) / 1e9 << " GB";
    return s.str();
  };
  throw InvalidArgument(what + " needs " + std::to_string(need) + " bytes (" + gb(need) + ") of host memory, but " +
                        std::to_string(available) + " bytes (" + gb(available) + ") are available" +
                        (hint.empty() ? "" : "; " + hint));
}

}  // namespace adamas
