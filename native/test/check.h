// Minimal test registry and checks for the native tests (no framework to download).
// A test is `TEST(name) { ... }`; CHECK* record a failure with file:line and keep going,
// so one run shows every broken expectation.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace adamas::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what.c_str());
}

// Marks the running test as skipped (reported as a skip, never as a pass); the test returns.
inline int& skips() {
  static int n = 0;
  return n;
}
inline void skip(const std::string& why) {
  ++skips();
  std::fprintf(stderr, "  skipped: %s\n", why.c_str());
}

}  // namespace adamas::test

#define ADAMAS_TEST_CAT2(a, b) a##b
#define ADAMAS_TEST_CAT(a, b) ADAMAS_TEST_CAT2(a, b)
#define TEST(name)                                                                      \
  static void name();                                                                   \
  static ::adamas::test::Registrar ADAMAS_TEST_CAT(registrar_, name)(#name, name);      \
  static void name()

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) ::adamas::test::fail(__FILE__, __LINE__, "CHECK(" #cond ")");          \
  } while (0)

#define CHECK_EQ(a, b)                                                                  \
  do {                                                                                  \
    const auto va_ = (a);  /* a copy: (a) may refer into a temporary */             \
    const auto vb_ = (b);                                                               \
    if (!(va_ == vb_)) {                                                                \
      std::ostringstream os_;                                                           \
      os_ << #a " == " #b " (" << va_ << " vs " << vb_ << ")";                          \
      ::adamas::test::fail(__FILE__, __LINE__, os_.str());                              \
    }                                                                                   \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                           \
  do {                                                                                  \
    double va_ = (a), vb_ = (b), tol_ = (tol);                                          \
    if (!(std::fabs(va_ - vb_) <= tol_)) {                                              \
      std::ostringstream os_;                                                           \
      os_ << #a " ~= " #b " (" << va_ << " vs " << vb_ << ", tol " << tol_ << ")";      \
      ::adamas::test::fail(__FILE__, __LINE__, os_.str());                              \
    }                                                                                   \
  } while (0)

// Expects `expr` to throw an exception whose what() contains `needle`.
#define CHECK_THROWS_WITH(expr, needle)                                                 \
  do {                                                                                  \
    bool threw_ = false;                                                                \
    try {                                                                               \
      (void)(expr);                                                                     \
    } catch (const std::exception& e_) {                                                \
      threw_ = true;                                                                    \
      if (std::string(e_.what()).find(needle) == std::string::npos)                     \
        ::adamas::test::fail(__FILE__, __LINE__,                                        \
                             std::string("message '") + e_.what() + "' lacks '" + (needle) + "'"); \
    }                                                                                   \
    if (!threw_) ::adamas::test::fail(__FILE__, __LINE__, "no exception from " #expr);  \
  } while (0)
