// Runs every registered native test, or those whose name contains one of the arguments.
#include <chrono>
#include <cstring>

#include "check.h"

int main(int argc, char** argv) {
  using namespace adamas::test;
  int ran = 0, failed_cases = 0, skipped_cases = 0;
  for (const Case& c : registry()) {
    bool selected = argc <= 1;
    for (int i = 1; i < argc && !selected; ++i) selected = std::strstr(c.name, argv[i]) != nullptr;
    if (!selected) continue;
    const int before = failures(), skips_before = skips();
    auto t0 = std::chrono::steady_clock::now();
    try {
      c.fn();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const bool ok = failures() == before, skipped = ok && skips() > skips_before;
    failed_cases += ok ? 0 : 1;
    skipped_cases += skipped ? 1 : 0;
    ++ran;
    std::fprintf(stderr, "%s %s (%.0f ms)\n", !ok ? "FAIL" : skipped ? "skip" : "ok  ", c.name, ms);
  }
  std::fprintf(stderr, "\n%d native tests, %d failed, %d skipped\n", ran, failed_cases, skipped_cases);
  if (ran == 0) {
    std::fprintf(stderr, "no test matched the arguments\n");
    return 2;
  }
  return failed_cases == 0 ? 0 : 1;
}
