// readGguf(path): header, metadata and tensor table of a GGUF file.
#include "addon/bindings.h"
#include "addon/js_error.h"
#include "gguf/gguf.h"

namespace adamas::addon {

namespace {

Napi::Value to_js(Napi::Env env, const gguf::Value& v) {
  using T = gguf::ValueType;
  switch (v.type) {
    case T::U8: case T::U16: case T::U32: case T::U64: return Napi::Number::New(env, double(v.u));
    case T::I8: case T::I16: case T::I32: case T::I64: return Napi::Number::New(env, double(v.i));
    case T::F32: case T::F64: return Napi::Number::New(env, v.f);
    case T::BOOL: return Napi::Boolean::New(env, v.b);
    case T::STRING: return Napi::String::New(env, v.s);
    case T::ARRAY: {
      Napi::Array a = Napi::Array::New(env, v.array.size());
      for (size_t i = 0; i < v.array.size(); ++i) a.Set(uint32_t(i), to_js(env, v.array[i]));
      return a;
    }
  }
  return env.Undefined();
}

Napi::Value read_gguf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "readGguf(path: string)");
    auto file = gguf::File::open(info[0].As<Napi::String>().Utf8Value());
    Napi::Object out = Napi::Object::New(env);
    out.Set("path", file->path());
    out.Set("version", file->version());
    out.Set("fileSize", double(file->file_size()));
    Napi::Object md = Napi::Object::New(env);
    for (const auto& [key, value] : file->metadata()) md.Set(key, to_js(env, value));
    out.Set("metadata", md);
    Napi::Array tensors = Napi::Array::New(env, file->tensors().size());
    uint32_t i = 0;
    for (const gguf::TensorInfo& t : file->tensors()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", t.name);
      o.Set("type", gguf::tensor_type_name(t.type_id));
      Napi::Array shape = Napi::Array::New(env, t.shape.size());
      for (size_t d = 0; d < t.shape.size(); ++d) shape.Set(uint32_t(d), double(t.shape[d]));
      o.Set("shape", shape);
      o.Set("offset", double(t.offset));
      o.Set("bytes", double(t.n_bytes));
      tensors.Set(i++, o);
    }
    out.Set("tensors", tensors);
    return out;
  });
}

}  // namespace

void register_gguf(Napi::Env env, Napi::Object exports) {
  exports.Set("readGguf", Napi::Function::New(env, read_gguf, "readGguf"));
}

}  // namespace adamas::addon
