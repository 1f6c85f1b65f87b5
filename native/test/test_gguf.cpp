// Tests of the GGUF reader and the dequantiser.
// A seeded writer makes a valid file with metadata of every value type and tensors of every supported
// type; handcrafted files, one per defect, check that each is refused with a message naming the
// problem (in the spirit of ggml's tests/test-gguf.cpp). The decoders are checked bit-exactly against
// plain reference encoders written here. Set ADAMAS_TEST_GGUF to a SmolLM2-135M-Instruct Q4_1 GGUF to
// also check the real model.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "gguf_writer.h"
#include "gguf/dequant.h"
#include "gguf/gguf.h"

using namespace adamas::gguf;
using namespace adamas::test;

namespace {

// The gguf::Error message from opening path; "" when it opens; any other exception is reported as such.
std::string open_error(const std::string& path) {
  try {
    File::open(path);
    return "";
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("unexpected exception type: ") + e.what();
  }
}

void expect_open_error(const char* file, int line, const std::vector<uint8_t>& bytes,
                       std::initializer_list<std::string> needles) {
  TempFile tf(bytes);
  const std::string msg = open_error(tf.path);
  if (msg.empty()) {
    adamas::test::fail(file, line, "the file opened; expected an error");
    return;
  }
  if (msg.rfind(tf.path + ": ", 0) != 0)
    adamas::test::fail(file, line, "message '" + msg + "' does not start with the path");
  for (const std::string& n : needles)
    if (msg.find(n) == std::string::npos) adamas::test::fail(file, line, "message '" + msg + "' lacks '" + n + "'");
}
#define EXPECT_OPEN_ERROR(bytes, ...) expect_open_error(__FILE__, __LINE__, (bytes), {__VA_ARGS__})

// ---- reference encoders (ggml's quantize_row_*_ref as plain loops) ------------------------------

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE half -> float by the textbook formula (independent of the bit tricks in dequant.cpp).
float ref_half(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  double v;
  if (exp == 0)
    v = std::ldexp(double(mant), -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(double(1024 + mant), exp - 25);
  return float(sign ? -v : v);
}

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v & 0xFF));
  out.push_back(uint8_t(v >> 8));
}

// Encodes x (a multiple of 32 values) and returns the values the blocks encode.
std::vector<float> encode_q8_0(const std::vector<float>& x, std::vector<uint8_t>& out) {
  std::vector<float> expect;
  for (size_t b = 0; b < x.size(); b += 32) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b + j]));
    const float d = amax / 127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    put_u16(out, dh);
    for (int j = 0; j < 32; ++j) {
      const int8_t q = int8_t(std::roundf(x[b + j] * id));
      out.push_back(uint8_t(q));
      expect.push_back(ref_half(dh) * float(q));
    }
  }
  return expect;
}

std::vector<float> encode_q4_0(const std::vector<float>& x, std::vector<uint8_t>& out) {
  std::vector<float> expect(x.size());
  for (size_t b = 0; b < x.size(); b += 32) {
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j)
      if (amax < std::fabs(x[b + j])) {
        amax = std::fabs(x[b + j]);
        max = x[b + j];
      }
    const float d = max / -8;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    put_u16(out, dh);
    for (int j = 0; j < 16; ++j) {
      const uint8_t lo = uint8_t(std::min(15, int(int8_t(x[b + j] * id + 8.5f))));
      const uint8_t hi = uint8_t(std::min(15, int(int8_t(x[b + 16 + j] * id + 8.5f))));
      out.push_back(uint8_t(lo | (hi << 4)));
      expect[b + j] = ref_half(dh) * float(int(lo) - 8);
      expect[b + 16 + j] = ref_half(dh) * float(int(hi) - 8);
    }
  }
  return expect;
}

std::vector<float> encode_q4_1(const std::vector<float>& x, std::vector<uint8_t>& out) {
  std::vector<float> expect(x.size());
  for (size_t b = 0; b < x.size(); b += 32) {
    float min = std::numeric_limits<float>::max(), max = -min;
    for (int j = 0; j < 32; ++j) {
      min = std::min(min, x[b + j]);
      max = std::max(max, x[b + j]);
    }
    const float d = (max - min) / 15;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d), mh = f32_to_f16(min);
    put_u16(out, dh);
    put_u16(out, mh);
    // d*q + m is exact in double (f16 operands), so rounding it once to float is the encoded value.
    auto value = [&](int q) { return float(double(ref_half(dh)) * q + double(ref_half(mh))); };
    for (int j = 0; j < 16; ++j) {
      const uint8_t lo = uint8_t(std::min(15, int(int8_t((x[b + j] - min) * id + 0.5f))));
      const uint8_t hi = uint8_t(std::min(15, int(int8_t((x[b + 16 + j] - min) * id + 0.5f))));
      out.push_back(uint8_t(lo | (hi << 4)));
      expect[b + j] = value(lo);
      expect[b + 16 + j] = value(hi);
    }
  }
  return expect;
}

// Random values with the features that matter to the encoders: an all-zero block, a constant
// block, an outlier.
std::vector<float> random_values(std::mt19937& rng, size_t n) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng) * 0.05f;
  if (n >= 96) {
    for (size_t j = 0; j < 32; ++j) x[j] = 0.0f;
    for (size_t j = 32; j < 64; ++j) x[j] = 0.25f;
    x[70] = 3.0f;
  }
  return x;
}

uint64_t product(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

// A tensor of a supported type with seeded contents and the values it decodes to.
TensorSpec make_tensor(const std::string& name, TensorType type, std::vector<uint64_t> shape, std::mt19937& rng) {
  TensorSpec t;
  t.name = name;
  t.type_id = uint32_t(type);
  t.shape = std::move(shape);
  const size_t n = product(t.shape);
  std::uniform_int_distribution<uint32_t> u16(0, 0xFFFF);
  switch (type) {
    case TensorType::F32:
      for (float v : random_values(rng, n)) {
        for (int k = 0; k < 4; ++k) t.data.push_back(uint8_t(bits(v) >> (8 * k)));
        t.expect.push_back(v);
      }
      break;
    case TensorType::F16:
      for (size_t k = 0; k < n; ++k) {
        uint16_t h;
        do h = uint16_t(u16(rng));
        while (((h >> 10) & 31) == 31);  // any finite half, subnormals included
        put_u16(t.data, h);
        t.expect.push_back(ref_half(h));
      }
      break;
    case TensorType::BF16:
      for (size_t k = 0; k < n; ++k) {
        uint16_t h;
        do h = uint16_t(u16(rng));
        while (((h >> 7) & 0xFF) == 0xFF);
        put_u16(t.data, h);
        t.expect.push_back(from_bits(uint32_t(h) << 16));
      }
      break;
    case TensorType::Q8_0: t.expect = encode_q8_0(random_values(rng, n), t.data); break;
    case TensorType::Q4_0: t.expect = encode_q4_0(random_values(rng, n), t.data); break;
    case TensorType::Q4_1: t.expect = encode_q4_1(random_values(rng, n), t.data); break;
  }
  return t;
}

// Index of the first value whose bits differ, or -1.
long first_mismatch(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return 0;
  for (size_t k = 0; k < got.size(); ++k)
    if (bits(got[k]) != bits(want[k])) return long(k);
  return -1;
}

#define CHECK_SAME_FLOATS(got, want)                                                                  \
  do {                                                                                                \
    const long at_ = first_mismatch((got), (want));                                                   \
    if (at_ >= 0) {                                                                                   \
      std::ostringstream os_;                                                                         \
      os_ << #got " differs from " #want " at " << at_;                                               \
      if (size_t(at_) < (got).size() && size_t(at_) < (want).size())                                  \
        os_ << " (" << (got)[at_] << " vs " << (want)[at_] << ")";                                    \
      adamas::test::fail(__FILE__, __LINE__, os_.str());                                              \
    }                                                                                                 \
  } while (0)

// ---- the valid file ----------------------------------------------------------------------------

struct Valid {
  Gguf g;
  std::vector<std::string> tokens;
  size_t tokens_kv_pos = 0;  // where the 'tokenizer.ggml.tokens' pair starts within the metadata
  size_t u64_kv_pos = 0;     // and 'test.u64'
  uint64_t u64_key_index = 0;
};

Valid make_valid(uint32_t seed, uint32_t version = 3) {
  std::mt19937 rng(seed);
  Valid v;
  Gguf& g = v.g;
  g.version = version;
  g.alignment = 64;
  g.add_string("general.architecture", "llama");
  g.add_u32("general.alignment", 64);
  g.key("test.u8", ValueType::U8).u8(200);
  g.key("test.i8", ValueType::I8).put<int8_t>(-100);
  g.key("test.u16", ValueType::U16).put<uint16_t>(60000);
  g.key("test.i16", ValueType::I16).put<int16_t>(-30000);
  g.key("test.u32", ValueType::U32).u32(4000000000u);
  g.key("test.i32", ValueType::I32).put<int32_t>(-2000000000);
  g.key("test.f32", ValueType::F32).put<float>(1.5f);
  g.key("test.bool", ValueType::BOOL).u8(1);
  g.key("test.false", ValueType::BOOL).u8(0);
  g.key("test.string", ValueType::STRING).str("h\xC3\xA9llo");
  v.u64_kv_pos = g.kv.size();
  v.u64_key_index = g.n_kv;
  g.key("test.u64", ValueType::U64).u64((uint64_t(1) << 63) + 5);
  g.key("test.i64", ValueType::I64).put<int64_t>(-(int64_t(1) << 62));
  g.key("test.f64", ValueType::F64).put<double>(3.141592653589793);
  g.key("test.arr_u8", ValueType::ARRAY).type(ValueType::U8).u64(3).u8(1).u8(2).u8(3);
  g.key("test.arr_i32", ValueType::ARRAY).type(ValueType::I32).u64(3).put<int32_t>(-1).put<int32_t>(0).put<int32_t>(7);
  g.key("test.arr_f32", ValueType::ARRAY).type(ValueType::F32).u64(2).put<float>(0.5f).put<float>(-2.0f);
  g.key("test.arr_f64", ValueType::ARRAY).type(ValueType::F64).u64(1).put<double>(1e300);
  g.key("test.arr_bool", ValueType::ARRAY).type(ValueType::BOOL).u64(2).u8(1).u8(0);
  g.key("test.arr_u64", ValueType::ARRAY).type(ValueType::U64).u64(2).u64(5).u64(~uint64_t(0));
  g.key("test.arr_str", ValueType::ARRAY).type(ValueType::STRING).u64(3).str("a").str("").str("bc");
  g.key("test.arr_nested", ValueType::ARRAY).type(ValueType::ARRAY).u64(3)
      .type(ValueType::U16).u64(2).put<uint16_t>(1).put<uint16_t>(2)
      .type(ValueType::STRING).u64(1).str("x")
      .type(ValueType::I8).u64(0);
  g.key("test.arr_empty", ValueType::ARRAY).type(ValueType::U64).u64(0);
  std::uniform_int_distribution<int> len(0, 12), ch(33, 126);
  for (int k = 0; k < 100; ++k) {
    std::string s(size_t(len(rng)), ' ');
    for (char& c : s) c = char(ch(rng));
    v.tokens.push_back(s);
  }
  v.tokens.back() = "last-token-0123456789";
  v.tokens_kv_pos = g.kv.size();
  Bytes& arr = g.key("tokenizer.ggml.tokens", ValueType::ARRAY).type(ValueType::STRING).u64(v.tokens.size());
  for (const std::string& s : v.tokens) arr.str(s);

  g.tensors.push_back(make_tensor("f32", TensorType::F32, {64, 2}, rng));
  g.tensors.push_back(make_tensor("f16", TensorType::F16, {32, 3}, rng));
  g.tensors.push_back(make_tensor("bf16", TensorType::BF16, {16, 2, 2}, rng));
  g.tensors.push_back(make_tensor("q8_0", TensorType::Q8_0, {96, 3}, rng));
  g.tensors.push_back(make_tensor("q4_0", TensorType::Q4_0, {96, 2}, rng));
  g.tensors.push_back(make_tensor("q4_1", TensorType::Q4_1, {96, 1, 1, 2}, rng));
  return v;
}

// The smallest useful file: one key, one F32 tensor of 32 elements.
Gguf minimal() {
  Gguf g;
  g.add_string("general.architecture", "llama");
  TensorSpec t;
  t.name = "w";
  t.type_id = uint32_t(TensorType::F32);
  t.shape = {32};
  t.data.assign(32 * 4, 0);
  g.tensors.push_back(t);
  return g;
}

TensorSpec raw_tensor(const std::string& name, uint32_t type_id, std::vector<uint64_t> shape, size_t n_bytes) {
  TensorSpec t;
  t.name = name;
  t.type_id = type_id;
  t.shape = std::move(shape);
  t.data.assign(n_bytes, 0);
  return t;
}

}  // namespace

// ---- valid files -------------------------------------------------------------------------------

TEST(gguf_valid_file_metadata) {
  Valid v = make_valid(1);
  TempFile tf(v.g.bytes());
  auto f = File::open(tf.path);
  CHECK_EQ(f->version(), 3u);
  CHECK_EQ(f->alignment(), 64u);
  CHECK_EQ(f->metadata().size(), size_t(v.g.n_kv));
  CHECK_EQ(f->metadata()[0].first, std::string("general.architecture"));
  CHECK_EQ(f->metadata().back().first, std::string("tokenizer.ggml.tokens"));

  auto val = [&](const char* k) -> const Value& {
    static const Value none;
    const Value* p = f->find(k);
    if (!p) adamas::test::fail(__FILE__, __LINE__, std::string("key missing: ") + k);
    return p ? *p : none;
  };
  CHECK(val("test.u8").type == ValueType::U8);
  CHECK_EQ(val("test.u8").u, 200u);
  CHECK_EQ(val("test.i8").i, -100);
  CHECK_EQ(val("test.u16").u, 60000u);
  CHECK_EQ(val("test.i16").i, -30000);
  CHECK_EQ(val("test.u32").u, 4000000000u);
  CHECK_EQ(val("test.i32").i, -2000000000);
  CHECK_EQ(val("test.f32").f, 1.5);
  CHECK(val("test.f32").type == ValueType::F32);
  CHECK(val("test.bool").b);
  CHECK(!val("test.false").b);
  CHECK_EQ(val("test.string").s, std::string("h\xC3\xA9llo"));
  CHECK_EQ(val("test.u64").u, (uint64_t(1) << 63) + 5);
  CHECK_EQ(val("test.i64").i, -(int64_t(1) << 62));
  CHECK_EQ(val("test.f64").f, 3.141592653589793);

  const Value& a = val("test.arr_u8");
  CHECK(a.type == ValueType::ARRAY && a.array_type == ValueType::U8);
  CHECK_EQ(a.array.size(), size_t(3));
  if (a.array.size() == 3) CHECK_EQ(a.array[2].u, 3u);
  const Value& nested = val("test.arr_nested");
  CHECK(nested.array_type == ValueType::ARRAY);
  CHECK_EQ(nested.array.size(), size_t(3));
  if (nested.array.size() == 3) {
    CHECK(nested.array[0].type == ValueType::ARRAY && nested.array[0].array_type == ValueType::U16);
    CHECK_EQ(nested.array[0].array.size(), size_t(2));
    if (nested.array[0].array.size() == 2) CHECK_EQ(nested.array[0].array[1].u, 2u);
    CHECK(nested.array[1].array_type == ValueType::STRING);
    if (nested.array[1].array.size() == 1) CHECK_EQ(nested.array[1].array[0].s, std::string("x"));
    CHECK(nested.array[2].array_type == ValueType::I8 && nested.array[2].array.empty());
  }
  CHECK(val("test.arr_empty").array.empty());
  CHECK(val("test.arr_bool").array.size() == 2 && val("test.arr_bool").array[0].b);
  CHECK(f->get_string_array("tokenizer.ggml.tokens") == v.tokens);
  CHECK(f->get_string_array("test.arr_str") == std::vector<std::string>({"a", "", "bc"}));
}

TEST(gguf_valid_file_tensors) {
  Valid v = make_valid(2);
  Layout lay;
  TempFile tf(v.g.bytes(&lay));
  auto f = File::open(tf.path);
  CHECK_EQ(f->data_offset(), uint64_t(lay.data_start));
  CHECK_EQ(f->data_offset() % 64, 0u);
  CHECK_EQ(f->tensors().size(), v.g.tensors.size());
  const uint8_t* base = f->tensors().empty() ? nullptr : f->tensors()[0].data - f->data_offset();
  for (size_t k = 0; k < v.g.tensors.size() && k < f->tensors().size(); ++k) {
    const TensorSpec& want = v.g.tensors[k];
    const TensorInfo& t = f->tensors()[k];
    CHECK_EQ(t.name, want.name);
    CHECK(t.shape == want.shape);
    CHECK_EQ(t.type_id, want.type_id);
    CHECK(t.supported());
    CHECK_EQ(t.offset, lay.offsets[k]);
    CHECK_EQ(t.offset % 64, 0u);
    CHECK_EQ(t.n_elements, product(want.shape));
    CHECK_EQ(t.n_bytes, uint64_t(want.data.size()));
    CHECK(t.data == base + lay.data_start + lay.offsets[k]);
    CHECK_EQ(t.file_path, tf.path);
    CHECK(&f->tensor(want.name) == &t);
    std::vector<float> got(t.n_elements);
    dequantize_tensor(t, got.data());
    CHECK_SAME_FLOATS(got, want.expect);
  }
  CHECK(f->find_tensor("nope") == nullptr);
  CHECK_THROWS_WITH(f->tensor("nope"), tf.path + ": tensor 'nope' not found");
}

TEST(gguf_version_2_and_default_alignment) {
  Valid v = make_valid(3, 2);
  TempFile tf(v.g.bytes());
  auto f = File::open(tf.path);
  CHECK_EQ(f->version(), 2u);
  CHECK_EQ(f->tensors().size(), size_t(6));

  Gguf g = minimal();  // no general.alignment: 32
  TempFile tf2(g.bytes());
  auto f2 = File::open(tf2.path);
  CHECK_EQ(f2->alignment(), 32u);
  CHECK_EQ(f2->data_offset() % 32, 0u);

  Gguf empty;  // no metadata, no tensors
  TempFile tf3(empty.bytes());
  auto f3 = File::open(tf3.path);
  CHECK(f3->metadata().empty() && f3->tensors().empty());
}

TEST(gguf_typed_getters) {
  Valid v = make_valid(4);
  TempFile tf(v.g.bytes());
  auto f = File::open(tf.path);
  const std::string p = tf.path + ": ";
  CHECK_EQ(f->get_string("general.architecture"), std::string("llama"));
  CHECK_EQ(f->get_u64("test.u8"), 200u);
  CHECK_EQ(f->get_u64("test.u32"), 4000000000u);
  CHECK_EQ(f->get_u64("test.u64"), (uint64_t(1) << 63) + 5);
  CHECK_EQ(f->get_i64("test.u16"), 60000);
  CHECK_EQ(f->get_i64("test.i64"), -(int64_t(1) << 62));
  CHECK_EQ(f->get_i64("test.i8"), -100);
  CHECK_EQ(f->get_f64("test.f32"), 1.5);
  CHECK_EQ(f->get_f64("test.i32"), -2000000000.0);
  CHECK_EQ(f->get_f64("test.u64"), double((uint64_t(1) << 63) + 5));
  CHECK_EQ(f->get_f64("test.f64"), 3.141592653589793);
  CHECK(f->get_bool("test.bool"));
  CHECK(!f->get_bool("test.false"));
  CHECK(f->get_int_array("test.arr_i32") == std::vector<int64_t>({-1, 0, 7}));
  CHECK(f->get_int_array("test.arr_u8") == std::vector<int64_t>({1, 2, 3}));
  CHECK(f->get_f64_array("test.arr_f32") == std::vector<double>({0.5, -2.0}));
  CHECK(f->get_f64_array("test.arr_i32") == std::vector<double>({-1.0, 0.0, 7.0}));
  CHECK(f->get_f64_array("test.arr_f64") == std::vector<double>({1e300}));
  CHECK(f->get_int_array("test.arr_empty").empty());
  CHECK(f->has("test.u8") && !f->has("nope"));

  CHECK_THROWS_WITH(f->get_u64("llama.block_count"), p + "metadata key 'llama.block_count' is missing");
  CHECK_THROWS_WITH(f->get_string("nope"), p + "metadata key 'nope' is missing");
  CHECK_THROWS_WITH(f->get_u64("test.string"), p + "metadata key 'test.string' has type string, expected an integer");
  CHECK_THROWS_WITH(f->get_u64("test.f32"), "has type f32, expected an integer");
  CHECK_THROWS_WITH(f->get_u64("test.bool"), "has type bool, expected an integer");
  CHECK_THROWS_WITH(f->get_u64("test.i8"), p + "metadata key 'test.i8' is -100, expected a non-negative integer");
  CHECK_THROWS_WITH(f->get_u64("test.i32"), "is -2000000000");
  CHECK_THROWS_WITH(f->get_i64("test.u64"), "'test.u64' is 9223372036854775813, which does not fit in int64");
  CHECK_THROWS_WITH(f->get_i64("test.arr_u8"), "has type array of u8, expected an integer");
  CHECK_THROWS_WITH(f->get_f64("test.string"), "has type string, expected a number");
  CHECK_THROWS_WITH(f->get_f64("test.bool"), "has type bool, expected a number");
  CHECK_THROWS_WITH(f->get_bool("test.u8"), "metadata key 'test.u8' has type u8, expected a bool");
  CHECK_THROWS_WITH(f->get_string("test.u8"), "has type u8, expected a string");
  CHECK_THROWS_WITH(f->get_string("test.arr_str"), "has type array of string, expected a string");
  CHECK_THROWS_WITH(f->get_string_array("test.arr_u8"), "has type array of u8, expected an array of strings");
  CHECK_THROWS_WITH(f->get_string_array("test.string"), "has type string, expected an array of strings");
  CHECK_THROWS_WITH(f->get_string_array("test.arr_nested"), "has type array of array of u16");
  CHECK_THROWS_WITH(f->get_int_array("test.arr_f32"), "has type array of f32, expected an array of integers");
  CHECK_THROWS_WITH(f->get_int_array("test.arr_u64"),
                    "metadata key 'test.arr_u64' element 1 is 18446744073709551615, which does not fit in int64");
  CHECK_THROWS_WITH(f->get_f64_array("test.arr_str"), "has type array of string, expected an array of numbers");
  CHECK_THROWS_WITH(f->get_f64_array("test.arr_bool"), "expected an array of numbers");

  CHECK_EQ(f->get_u64_or("nope", 7), 7u);
  CHECK_EQ(f->get_u64_or("test.u16", 7), 60000u);
  CHECK_EQ(f->get_f64_or("nope", 0.25), 0.25);
  CHECK_EQ(f->get_bool_or("nope", true), true);
  CHECK_EQ(f->get_string_or("nope", "dflt"), std::string("dflt"));
  CHECK_EQ(f->get_string_or("test.string", "dflt"), std::string("h\xC3\xA9llo"));
  CHECK_THROWS_WITH(f->get_u64_or("test.string", 7), "has type string, expected an integer");
  CHECK_THROWS_WITH(f->get_f64_or("test.string", 1.0), "expected a number");
  CHECK_THROWS_WITH(f->get_bool_or("test.u8", false), "expected a bool");
  CHECK_THROWS_WITH(f->get_string_or("test.u8", ""), "expected a string");
}

// ---- defects -----------------------------------------------------------------------------------

TEST(gguf_defect_not_a_file) {
  CHECK_THROWS_WITH(File::open("/nonexistent-dir/x.gguf"), "/nonexistent-dir/x.gguf: cannot open: ");
  std::string dir = std::filesystem::temp_directory_path().string();
  CHECK_THROWS_WITH(File::open(dir), dir + ": not a regular file");
  const std::vector<uint8_t> empty, two = {'G', 'G'};
  EXPECT_OPEN_ERROR(empty, "not a GGUF file (0 bytes long");
  EXPECT_OPEN_ERROR(two, "not a GGUF file (2 bytes long");
}

TEST(gguf_defect_bad_magic) {
  std::vector<uint8_t> b = minimal().bytes();
  std::memcpy(b.data(), "PK\x03\x04", 4);
  EXPECT_OPEN_ERROR(b, "not a GGUF file (magic 'PK\\x03\\x04', expected 'GGUF')");
  std::memcpy(b.data(), "GGML", 4);
  EXPECT_OPEN_ERROR(b, "magic 'GGML'");
}

TEST(gguf_defect_versions) {
  Gguf g = minimal();
  g.version = 1;
  EXPECT_OPEN_ERROR(g.bytes(), "GGUF version 1 is no longer supported");
  g.version = 0x03000000;  // version 3 written big-endian
  EXPECT_OPEN_ERROR(g.bytes(), "version 50331648", "big-endian", "byte-swapped version 3");
  g.version = 4;
  EXPECT_OPEN_ERROR(g.bytes(), "GGUF version 4, this reader supports 2..3");
  g.version = 0;
  EXPECT_OPEN_ERROR(g.bytes(), "GGUF version 0, this reader supports 2..3");
}

TEST(gguf_defect_truncated) {
  Valid v = make_valid(5);
  Layout lay;
  const std::vector<uint8_t> full = v.g.bytes(&lay);
  auto cut = [&](size_t n) { return std::vector<uint8_t>(full.begin(), full.begin() + long(n)); };
  auto s = [](uint64_t x) { return std::to_string(x); };

  EXPECT_OPEN_ERROR(cut(10), "truncated while reading the header: need 8 bytes at offset 8, file has 10");
  {
    // Near the start, in a file with few keys (the header's counts must still fit in what is left).
    Layout ml;
    const std::vector<uint8_t> m = minimal().bytes(&ml);
    const size_t k0 = ml.kv_start;
    // Mid key string of pair 0 (its length says 20, 3 bytes follow).
    EXPECT_OPEN_ERROR(std::vector<uint8_t>(m.begin(), m.begin() + long(k0 + 8 + 3)),
                      "metadata key 0: string length 20 at offset " + s(k0),
                      "runs past the end of the file (3 bytes left");
    // Mid length of key 0.
    EXPECT_OPEN_ERROR(std::vector<uint8_t>(m.begin(), m.begin() + long(k0 + 5)),
                      "truncated while reading metadata key 0: need 8 bytes at offset " + s(k0) + ", file has " +
                          s(k0 + 5));
  }
  EXPECT_OPEN_ERROR(cut(30), "the header declares 25 metadata keys, more than a file of 30 bytes can hold");
  // Mid u64 value of 'test.u64' (key 11).
  const size_t u64_value = lay.kv_start + v.u64_kv_pos + 8 + 8 + 4;
  EXPECT_OPEN_ERROR(cut(u64_value + 3), "truncated while reading metadata key " + s(v.u64_key_index) +
                                            " ('test.u64'): need 8 bytes at offset " + s(u64_value) + ", file has " +
                                            s(u64_value + 3));
  // Mid array of strings: inside the last element's bytes, then inside its length.
  const size_t tokens_end = lay.infos_start;
  const std::string tok = "metadata key " + s(v.g.n_kv - 1) + " ('tokenizer.ggml.tokens')";
  EXPECT_OPEN_ERROR(cut(tokens_end - 5), tok + ": string length 21", "runs past the end of the file (16 bytes left");
  const size_t last_len = tokens_end - 21 - 8;
  EXPECT_OPEN_ERROR(cut(last_len + 4), "truncated while reading " + tok + ": need 8 bytes at offset " + s(last_len));
  // Mid array of fixed-size elements: the count no longer fits.
  EXPECT_OPEN_ERROR(cut(tokens_end - 100 * 8), tok + ": array of 100 string values", "runs past the end of the file");
  // Mid tensor infos.
  EXPECT_OPEN_ERROR(cut(lay.infos_start + 5),
                    "truncated while reading tensor info 0: need 8 bytes at offset " + s(lay.infos_start));
  EXPECT_OPEN_ERROR(cut(lay.infos_start + 8 + 3 + 4 + 8 + 2), "truncated while reading tensor info 0 ('f32')");
  // Mid tensor data: the last tensor no longer fits.
  const uint64_t last_at = lay.data_start + lay.offsets.back();
  EXPECT_OPEN_ERROR(cut(full.size() - 1), "tensor 'q4_1' data [offset " + s(last_at) + ", " +
                                              s(v.g.tensors.back().data.size()) +
                                              " bytes] lies outside the file (size " + s(full.size() - 1) + ")");
  // Right after the infos, before any data.
  EXPECT_OPEN_ERROR(cut(lay.infos_end), "tensor 'f32' data [offset " + s(lay.data_start), "lies outside the file");
}

// Every strict prefix of a valid file is refused with a gguf::Error naming the file.
TEST(gguf_truncation_sweep) {
  Valid v = make_valid(6);
  const std::vector<uint8_t> full = v.g.bytes();
  TempFile tf(full);
  CHECK_EQ(open_error(tf.path), std::string());
  int bad = 0;
  for (size_t n = full.size(); n-- > 0;) {
    tf.truncate(n);
    const std::string msg = open_error(tf.path);
    if (msg.rfind(tf.path + ": ", 0) != 0 && bad++ < 5)
      adamas::test::fail(__FILE__, __LINE__, "prefix of " + std::to_string(n) + " bytes: '" + msg + "'");
  }
}

TEST(gguf_defect_huge_string_and_array) {
  Gguf g = minimal();
  g.key("big.string", ValueType::STRING).u64(~uint64_t(0));
  EXPECT_OPEN_ERROR(g.bytes(), "metadata key 1 ('big.string'): string length 18446744073709551615",
                    "runs past the end of the file");

  Gguf k;  // a huge key length
  k.kv.u64(uint64_t(1) << 62).zeros(64);
  k.n_kv = 1;
  EXPECT_OPEN_ERROR(k.bytes(), "metadata key 0: string length 4611686018427387904");

  Gguf a = minimal();
  a.key("big.array", ValueType::ARRAY).type(ValueType::U32).u64(uint64_t(1) << 40);
  EXPECT_OPEN_ERROR(a.bytes(), "metadata key 1 ('big.array'): array of 1099511627776 u32 values",
                    "runs past the end of the file");
  Gguf as = minimal();
  as.key("big.strings", ValueType::ARRAY).type(ValueType::STRING).u64(~uint64_t(0));
  EXPECT_OPEN_ERROR(as.bytes(), "array of 18446744073709551615 string values");

  // Deeply nested arrays are bounded before they exhaust the stack.
  Gguf d = minimal();
  Bytes& w = d.key("deep", ValueType::ARRAY);
  for (int k = 0; k < 20; ++k) w.type(ValueType::ARRAY).u64(1);
  w.type(ValueType::U8).u64(0);
  EXPECT_OPEN_ERROR(d.bytes(), "metadata key 1 ('deep'): arrays nested deeper than 8 levels");

  // Counts in the header that the file cannot hold.
  Gguf c = minimal();
  c.n_kv_override = uint64_t(1) << 60;
  EXPECT_OPEN_ERROR(c.bytes(), "the header declares 1152921504606846976 metadata keys, more than a file of");
  Gguf t = minimal();
  t.n_tensors_override = ~uint64_t(0);
  EXPECT_OPEN_ERROR(t.bytes(), "the header declares 18446744073709551615 tensors, more than a file of");
}

TEST(gguf_defect_unknown_value_type) {
  Gguf g = minimal();
  g.kv.str("odd").u32(13).u32(0);
  ++g.n_kv;
  EXPECT_OPEN_ERROR(g.bytes(), "metadata key 1 ('odd'): unknown value type 13", "(valid: 0..12)");
  Gguf a = minimal();
  a.key("odd.array", ValueType::ARRAY).u32(99).u64(1);
  EXPECT_OPEN_ERROR(a.bytes(), "metadata key 1 ('odd.array'): unknown array element type 99");
}

TEST(gguf_defect_keys) {
  Gguf g = minimal();
  g.add_u32("a.key", 1).add_u32("b.key", 2).add_u32("a.key", 3);
  EXPECT_OPEN_ERROR(g.bytes(), "duplicate metadata key 'a.key' (keys 1 and 3)");
  Gguf e = minimal();
  e.add_u32("", 1);
  EXPECT_OPEN_ERROR(e.bytes(), "metadata key 1 has an empty name");
  Gguf u = minimal();  // unprintable bytes are escaped in messages
  u.add_u32("x\n", 1).add_u32("x\n", 1);
  EXPECT_OPEN_ERROR(u.bytes(), "duplicate metadata key 'x\\x0A'");
}

TEST(gguf_defect_tensor_infos) {
  {
    Gguf g = minimal();
    g.tensors.push_back(g.tensors[0]);
    EXPECT_OPEN_ERROR(g.bytes(), "duplicate tensor name 'w' (tensors 0 and 1)");
  }
  {
    Gguf g = minimal();
    g.tensors[0].shape = {32, 1, 1, 1, 1};
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'w' has 5 dimensions, at most 4 are supported");
  }
  {
    Gguf g = minimal();
    g.tensors[0].shape = {32, 0};
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'w' has shape [32, 0]: dimension 1 is 0");
  }
  {
    Gguf g = minimal();
    g.tensors[0].shape = {32, ~uint64_t(0)};
    EXPECT_OPEN_ERROR(g.bytes(), "dimension 1 is negative (-1 as int64)");
  }
  {
    Gguf g = minimal();
    g.tensors[0].shape = {uint64_t(1) << 32, uint64_t(1) << 31};
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'w' has shape [4294967296, 2147483648]: the element count overflows int64");
  }
  {
    Gguf g = minimal();
    g.tensors[0].shape = {uint64_t(1) << 62};  // fits int64 as elements, not as bytes
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'w' has shape [4611686018427387904]: its size in bytes overflows u64");
  }
  {
    Gguf g = minimal();
    g.tensors[0] = raw_tensor("q", uint32_t(TensorType::Q8_0), {33, 2}, 34 * 3);
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'q' of type Q8_0 has ne[0] = 33, not a multiple of the block size 32");
    g.tensors[0] = raw_tensor("k", 13, {128}, 176);  // Q5_K: 256-element blocks
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'k' of type Q5_K has ne[0] = 128, not a multiple of the block size 256");
  }
  {
    Gguf g = minimal();
    g.tensors[0].offset = 8;
    EXPECT_OPEN_ERROR(g.bytes(), "tensor 'w' offset 8 is not a multiple of the alignment 32");
  }
  {
    Gguf g = minimal();
    g.tensors[0].name = std::string(65, 'n');
    EXPECT_OPEN_ERROR(g.bytes(), "is 65 bytes long, the limit is 64");
  }
}

TEST(gguf_defect_alignment) {
  Gguf g = minimal();
  g.add_u32("general.alignment", 48);
  EXPECT_OPEN_ERROR(g.bytes(), "metadata key 'general.alignment' is 48, must be a power of two");
  Gguf z = minimal();
  z.add_u32("general.alignment", 0);
  EXPECT_OPEN_ERROR(z.bytes(), "metadata key 'general.alignment' is 0, must be a power of two");
  Gguf s = minimal();
  s.add_string("general.alignment", "32");
  EXPECT_OPEN_ERROR(s.bytes(), "metadata key 'general.alignment' has type string, expected an integer");
  Gguf big = minimal();
  big.key("general.alignment", ValueType::U64).u64(uint64_t(1) << 33);
  EXPECT_OPEN_ERROR(big.bytes(), "is 8589934592, must be a power of two that fits in u32");
}

TEST(gguf_defect_data_outside_file) {
  Gguf g = minimal();
  g.tensors[0].offset = 1 << 20;
  Layout lay;
  std::vector<uint8_t> b = g.bytes(&lay);
  EXPECT_OPEN_ERROR(b, "tensor 'w' data [offset " + std::to_string(lay.data_start + (1 << 20)) +
                           ", 128 bytes] lies outside the file (size " + std::to_string(b.size()) + ")");
  g.tensors[0].offset = ~uint64_t(0) - 31;  // aligned, and start + offset overflows
  EXPECT_OPEN_ERROR(g.bytes(), "data [offset " + std::to_string(lay.data_start) + " + 18446744073709551584",
                    "lies outside the file");
  Gguf short_data = minimal();
  short_data.tensors[0].data.resize(100);
  EXPECT_OPEN_ERROR(short_data.bytes(), "tensor 'w' data [offset", "128 bytes] lies outside the file");
}

// A tensor of a type this reader cannot decode is still valid GGUF: the file opens, the tensor says
// so, and decoding it names the tensor and the type.
TEST(gguf_unsupported_type_parses) {
  Gguf g = minimal();
  g.tensors.push_back(raw_tensor("blk.0.ffn_down.weight", 13, {256, 2}, 2 * 176));  // Q5_K
  g.tensors.push_back(raw_tensor("future", 99, {7}, 16));                          // not a ggml type (yet)
  TempFile tf(g.bytes());
  auto f = File::open(tf.path);
  const TensorInfo& k = f->tensor("blk.0.ffn_down.weight");
  CHECK(!k.supported());
  CHECK_EQ(k.type_id, 13u);
  CHECK_EQ(k.n_elements, 512u);
  CHECK_EQ(k.n_bytes, 352u);
  const std::string msg = tf.path +
                          ": tensor 'blk.0.ffn_down.weight' has unsupported type Q5_K (id 13); supported: F32, F16, "
                          "BF16, Q8_0, Q4_0, Q4_1";
  CHECK_THROWS_WITH(k.type(), msg);
  std::vector<float> out(512);
  CHECK_THROWS_WITH(dequantize_tensor(k, out.data()), msg);
  const TensorInfo& u = f->tensor("future");
  CHECK(!u.supported());
  CHECK_EQ(u.n_bytes, 0u);
  CHECK_THROWS_WITH(u.type(), "tensor 'future' has unsupported type type 99 (id 99)");
  CHECK(f->tensor("w").supported());
  CHECK(f->tensor("w").type() == TensorType::F32);
}

TEST(gguf_type_names_and_layouts) {
  CHECK_EQ(tensor_type_name(0), std::string("F32"));
  CHECK_EQ(tensor_type_name(3), std::string("Q4_1"));
  CHECK_EQ(tensor_type_name(8), std::string("Q8_0"));
  CHECK_EQ(tensor_type_name(13), std::string("Q5_K"));
  CHECK_EQ(tensor_type_name(30), std::string("BF16"));
  CHECK_EQ(tensor_type_name(39), std::string("MXFP4"));
  CHECK_EQ(tensor_type_name(1000), std::string("type 1000"));
  uint32_t be = 0, bb = 0;
  CHECK(type_layout(14, &be, &bb) && be == 256 && bb == 210);  // Q6_K
  CHECK(type_layout(2, &be, &bb) && be == 32 && bb == 18);     // Q4_0
  CHECK(!type_layout(4, &be, &bb));                            // Q4_2, removed
  CHECK(!type_layout(40, &be, &bb));
  CHECK_EQ(std::string(value_type_name(ValueType::STRING)), std::string("string"));
  CHECK_EQ(std::string(value_type_name(ValueType::U64)), std::string("u64"));
}

// Random byte edits of a valid file's header, metadata and tensor infos: each must open or throw
// gguf::Error, never crash or throw anything else (run under sanitizers to see memory errors).
TEST(gguf_fuzz_mutations) {
  Valid v = make_valid(7);
  Layout lay;
  const std::vector<uint8_t> full = v.g.bytes(&lay);
  TempFile tf(full);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> pos(0, lay.infos_end - 1);
  std::uniform_int_distribution<int> byte(0, 255), count(1, 4), kind(0, 3);
  int opened = 0, refused = 0, other = 0;
  for (int it = 0; it < 3000; ++it) {
    std::vector<uint8_t> b = full;
    for (int k = count(rng); k > 0; --k) {
      const size_t at = pos(rng);
      switch (kind(rng)) {
        case 0: b[at] = uint8_t(byte(rng)); break;
        case 1: b[at] ^= uint8_t(1u << (byte(rng) & 7)); break;
        case 2: b[at] = 0xFF; break;
        default: b.resize(std::min(b.size(), at + size_t(byte(rng)))); break;
      }
    }
    tf.rewrite(b);
    try {
      auto f = File::open(tf.path);
      ++opened;
      for (const TensorInfo& t : f->tensors()) {
        if (!t.supported()) continue;
        std::vector<float> out(t.n_elements);
        dequantize_tensor(t, out.data());
      }
    } catch (const Error& e) {
      ++refused;
      if (std::string(e.what()).rfind(tf.path + ": ", 0) != 0 && other++ < 5)
        adamas::test::fail(__FILE__, __LINE__, std::string("message without the path: ") + e.what());
    } catch (const std::exception& e) {
      if (other++ < 5) adamas::test::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
    }
  }
  CHECK(opened > 0);
  CHECK(refused > 0);
}

// ---- dequantisation ----------------------------------------------------------------------------

TEST(dequant_f16_all_halves) {
  int bad = 0;
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float got = f16_to_f32(uint16_t(h)), want = ref_half(uint16_t(h));
    const bool nan = ((h >> 10) & 31) == 31 && (h & 1023) != 0;
    bool ok;
    if (nan)  // NaN: keeps its sign and payload
      ok = std::isnan(got) && (bits(got) >> 31) == (h >> 15) && ((bits(got) >> 13) & 1023) == (h & 1023);
    else
      ok = bits(got) == bits(want);
    // Round trip: every half survives f32 and back (NaNs stay NaN).
    const uint16_t back = f32_to_f16(got);
    ok = ok && (nan ? ((back >> 10) & 31) == 31 && (back & 1023) != 0 : back == h);
    if (!ok && bad++ < 5) {
      std::ostringstream os;
      os << "half 0x" << std::hex << h << ": got " << got << " want " << want << " back 0x" << back;
      adamas::test::fail(__FILE__, __LINE__, os.str());
    }
  }
  CHECK_EQ(bad, 0);
}

TEST(dequant_f32_to_f16_rounding) {
  CHECK_EQ(f32_to_f16(1.0f), 0x3C00);
  CHECK_EQ(f32_to_f16(-2.0f), 0xC000);
  CHECK_EQ(f32_to_f16(65504.0f), 0x7BFF);
  CHECK_EQ(f32_to_f16(65519.0f), 0x7BFF);
  CHECK_EQ(f32_to_f16(65520.0f), 0x7C00);  // the tie rounds to even: inf
  CHECK_EQ(f32_to_f16(1e10f), 0x7C00);
  CHECK_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xFC00);
  CHECK_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
  CHECK_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);                // tie to even: 0
  CHECK_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  CHECK_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);                // 1.5 units: tie to even 2
  CHECK_EQ(f32_to_f16(std::ldexp(1.0f, -14) * (1 - 1e-7f)), 0x0400);  // rounds up to the smallest normal
  CHECK_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);         // tie, even mantissa stays
  CHECK_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);     // tie, odd mantissa rounds up
  CHECK_EQ(f32_to_f16(-0.0f), 0x8000);
  CHECK(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));

  // Random floats: the result is the nearest half, ties to the even mantissa.
  std::mt19937 rng(99);
  std::uniform_int_distribution<uint32_t> sign(0, 1), exponent(127 - 30, 127 + 16), mantissa(0, 0x7FFFFF);
  int bad = 0;
  for (int it = 0; it < 200000; ++it) {
    const float x = from_bits(sign(rng) << 31 | exponent(rng) << 23 | mantissa(rng));  // 2^-30..2^17
    if (!(std::fabs(x) < 65520.0f)) continue;
    const uint16_t h = f32_to_f16(x);
    const double err = std::fabs(double(ref_half(h)) - double(x));
    bool ok = true;
    for (int delta : {-1, 1}) {
      const uint16_t n = uint16_t(h + delta);
      if ((n & 0x7FFF) >= 0x7C00 || (n & 0x8000) != (h & 0x8000)) continue;
      const double e2 = std::fabs(double(ref_half(n)) - double(x));
      if (e2 < err || (e2 == err && (h & 1))) ok = false;
    }
    if (!ok && bad++ < 5) adamas::test::fail(__FILE__, __LINE__, "not the nearest half for " + std::to_string(x));
  }
}

TEST(dequant_bf16_all) {
  int bad = 0;
  std::vector<uint8_t> src;
  for (uint32_t h = 0; h <= 0xFFFF; ++h) put_u16(src, uint16_t(h));
  std::vector<float> out(65536);
  dequantize(TensorType::BF16, src.data(), out.data(), out.size());
  for (uint32_t h = 0; h <= 0xFFFF; ++h)
    if ((bits(bf16_to_f32(uint16_t(h))) != h << 16 || bits(out[h]) != h << 16) && bad++ < 5)
      adamas::test::fail(__FILE__, __LINE__, "bf16 0x" + std::to_string(h));
  CHECK_EQ(bad, 0);
}

// Big enough to take the OpenMP path (and small blocks of the same data, the serial one).
TEST(dequant_quantised_types_exact) {
  std::mt19937 rng(2024);
  const size_t n = 32 * 20000;
  const std::vector<float> x = random_values(rng, n);
  struct Case {
    TensorType type;
    std::vector<float> (*encode)(const std::vector<float>&, std::vector<uint8_t>&);
    double tol;  // how far the decoded values may be from the input, in units of the block range
  };
  for (const Case& c : {Case{TensorType::Q8_0, encode_q8_0, 0.5 / 127},
                        Case{TensorType::Q4_0, encode_q4_0, 1.0 / 8},
                        Case{TensorType::Q4_1, encode_q4_1, 1.0 / 15}}) {
    std::vector<uint8_t> data;
    const std::vector<float> expect = c.encode(x, data);
    CHECK_EQ(data.size(), type_bytes(c.type, n));
    std::vector<float> got(n);
    dequantize(c.type, data.data(), got.data(), n);
    CHECK_SAME_FLOATS(got, expect);
    std::vector<float> small(64);
    dequantize(c.type, data.data() + type_bytes(c.type, 64), small.data(), 64);
    CHECK_SAME_FLOATS(small, std::vector<float>(expect.begin() + 64, expect.begin() + 128));
    // And the codes are sane: each value lies near its input.
    int far = 0;
    for (size_t b = 0; b < n; b += 32) {
      float lo = x[b], hi = x[b];
      for (int j = 0; j < 32; ++j) lo = std::min(lo, x[b + j]), hi = std::max(hi, x[b + j]);
      const double range = std::max(std::fabs(lo), std::fabs(hi)) * 2 + 1e-6;
      for (int j = 0; j < 32; ++j)
        if (std::fabs(got[b + j] - x[b + j]) > c.tol * range * 1.01 + 1e-3 * range) ++far;
    }
    CHECK_EQ(far, 0);
  }
}

// Q4 blocks keep the first 16 elements in the low nibbles and the last 16 in the high nibbles.
TEST(dequant_q4_nibble_order) {
  std::vector<uint8_t> q40, q41;
  put_u16(q40, f32_to_f16(1.0f));
  put_u16(q41, f32_to_f16(0.5f));
  put_u16(q41, f32_to_f16(-1.0f));
  for (int j = 0; j < 16; ++j) {
    const uint8_t b = uint8_t(j | ((15 - j) << 4));
    q40.push_back(b);
    q41.push_back(b);
  }
  std::vector<float> y(32);
  dequantize(TensorType::Q4_0, q40.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    CHECK_EQ(y[j], float(j - 8));
    CHECK_EQ(y[16 + j], float(7 - j));
  }
  dequantize(TensorType::Q4_1, q41.data(), y.data(), 32);
  for (int j = 0; j < 16; ++j) {
    CHECK_EQ(y[j], 0.5f * j - 1.0f);
    CHECK_EQ(y[16 + j], 0.5f * (15 - j) - 1.0f);
  }
  std::vector<uint8_t> q8;
  put_u16(q8, f32_to_f16(0.25f));
  for (int j = 0; j < 32; ++j) q8.push_back(uint8_t(int8_t(j - 16)));
  dequantize(TensorType::Q8_0, q8.data(), y.data(), 32);
  for (int j = 0; j < 32; ++j) CHECK_EQ(y[j], 0.25f * (j - 16));
}

TEST(dequant_sizes_and_errors) {
  CHECK_EQ(block_size(TensorType::Q4_1), 32u);
  CHECK_EQ(block_size(TensorType::F16), 1u);
  CHECK_EQ(type_bytes(TensorType::Q8_0, 64), 68u);
  CHECK_EQ(type_bytes(TensorType::Q4_0, 64), 36u);
  CHECK_EQ(type_bytes(TensorType::Q4_1, 32), 20u);
  CHECK_EQ(type_bytes(TensorType::BF16, 3), 6u);
  CHECK_EQ(type_bytes(TensorType::F32, 3), 12u);
  CHECK_THROWS_WITH(type_bytes(TensorType::Q8_0, 33), "not a whole number of blocks of 32");
  std::vector<uint8_t> src(64);
  std::vector<float> dst(48);
  CHECK_THROWS_WITH(dequantize(TensorType::Q4_0, src.data(), dst.data(), 48), "48 elements of type Q4_0");
  CHECK_THROWS_WITH(dequantize(static_cast<TensorType>(13), src.data(), dst.data(), 32),
                    "unsupported tensor type Q5_K (id 13)");
  std::vector<float> f32 = {1.5f, -0.0f, 3e38f};
  std::vector<float> out(3);
  dequantize(TensorType::F32, reinterpret_cast<const uint8_t*>(f32.data()), out.data(), 3);
  CHECK_SAME_FLOATS(out, f32);
}

// ---- the real model ----------------------------------------------------------------------------

TEST(gguf_real_model) {
  const char* path = std::getenv("ADAMAS_TEST_GGUF");
  if (!path || !*path) return adamas::test::skip("set ADAMAS_TEST_GGUF to a SmolLM2-135M GGUF file");
  auto f = File::open(path);
  CHECK_EQ(f->get_string("general.architecture"), std::string("llama"));
  CHECK_EQ(f->tensors().size(), size_t(272));
  CHECK_EQ(f->get_u64("llama.block_count"), 30u);
  CHECK_EQ(f->get_u64("llama.embedding_length"), 576u);
  CHECK_EQ(f->get_string("tokenizer.ggml.model"), std::string("gpt2"));
  CHECK_EQ(f->get_string_array("tokenizer.ggml.tokens").size(), size_t(49152));
  const TensorInfo& embd = f->tensor("token_embd.weight");
  CHECK(embd.type() == TensorType::Q8_0);
  CHECK(embd.shape == std::vector<uint64_t>({576, 49152}));
  const TensorInfo& q = f->tensor("blk.0.attn_q.weight");
  CHECK(q.type() == TensorType::Q4_1);
  CHECK(q.shape == std::vector<uint64_t>({576, 576}));
  std::vector<float> out;
  for (const TensorInfo& t : f->tensors()) {
    out.assign(t.n_elements, std::numeric_limits<float>::quiet_NaN());
    dequantize_tensor(t, out.data());
    size_t bad = 0;
    for (float x : out) bad += !std::isfinite(x);
    if (bad) adamas::test::fail(__FILE__, __LINE__, t.name + ": " + std::to_string(bad) + " non-finite values");
  }
}
