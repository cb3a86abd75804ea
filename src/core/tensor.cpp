#include "hwopt/tensor.h"

#include "core/memory_budget.h"

#include <cmath>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <cstdlib>
#include <new>
#include <numeric>

namespace hwopt {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::float32: return 4;
    case DType::uint8: return 1;
    case DType::int8: return 1;
    case DType::uint16: return 2;
    case DType::int16: return 2;
    case DType::int32: return 4;
    case DType::int64: return 8;
    case DType::string: return sizeof(std::string);
    case DType::boolean: return 1;
    case DType::float16: return 2;
    case DType::float64: return 8;
    case DType::uint32: return 4;
    case DType::uint64: return 8;
    case DType::bfloat16: return 2;
    case DType::undefined: return 0;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::float32: return "float32";
    case DType::uint8: return "uint8";
    case DType::int8: return "int8";
    case DType::uint16: return "uint16";
    case DType::int16: return "int16";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::string: return "string";
    case DType::boolean: return "bool";
    case DType::float16: return "float16";
    case DType::float64: return "float64";
    case DType::uint32: return "uint32";
    case DType::uint64: return "uint64";
    case DType::bfloat16: return "bfloat16";
    case DType::undefined: return "undefined";
  }
  return "dtype(?)";
}

bool dtype_is_known(int32_t t) { return (t >= 1 && t <= 13) || t == 16; }
bool dtype_is_float(DType d) {
  return d == DType::float32 || d == DType::float64 || d == DType::float16 || d == DType::bfloat16;
}
bool dtype_is_integer(DType d) {
  switch (d) {
    case DType::int8: case DType::int16: case DType::int32: case DType::int64:
    case DType::uint8: case DType::uint16: case DType::uint32: case DType::uint64: return true;
    default: return false;
  }
}
bool dtype_is_signed(DType d) {
  return d == DType::int8 || d == DType::int16 || d == DType::int32 || d == DType::int64 || dtype_is_float(d);
}

Half::Half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  if (mag >= 0x7f800000u) {  // inf or nan
    bits = static_cast<uint16_t>(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u : 0u));
    return;
  }
  if (mag >= 0x477ff000u) {  // rounds to >= 65520: overflow to inf
    bits = static_cast<uint16_t>(sign | 0x7c00u);
    return;
  }
  if (mag < 0x38800000u) {  // subnormal half (or zero)
    // value = mag as float; half subnormal unit is 2^-24
    float af;
    std::memcpy(&af, &mag, 4);
    float scaled = af * 16777216.0f;  // / 2^-24
    uint32_t q = static_cast<uint32_t>(std::nearbyint(scaled));
    bits = static_cast<uint16_t>(sign | q);
    return;
  }
  uint32_t exp = ((mag >> 23) - 112) << 10;
  uint32_t mant = (mag >> 13) & 0x3ffu;
  uint32_t rest = mag & 0x1fffu;
  uint32_t h = exp | mant;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  bits = static_cast<uint16_t>(sign | h);
}

Half::operator float() const {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu;
  uint32_t mant = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0) {
    if (mant == 0) {
      out = sign;
    } else {
      float f = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&out, &f, 4);
      out |= sign;
    }
  } else if (exp == 31) {
    out = sign | 0x7f800000u | (mant << 13);
  } else {
    out = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

BFloat16::BFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) {
    bits = static_cast<uint16_t>((x >> 16) | 0x40u);
    return;
  }
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  bits = static_cast<uint16_t>((x + rounding) >> 16);
}

std::string device_name(Device device) {
  if (device.type == DeviceType::cpu) return "cpu";
  return "cuda:" + std::to_string(device.index);
}

int64_t shape_numel(const Shape& shape) {
  // The product of the non-zero dims must fit too: strides and offsets are computed from it even
  // when another dim is 0 (found by fuzzing .npy headers like (0, 2^40, 2^40)).
  int64_t n = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > INT64_MAX / d) return -1;
    n *= d;
  }
  return empty ? 0 : n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

// Freed buffers of at least kMinCachedBytes, kept by rounded size for reuse (bounded). Large
// allocations would otherwise be fresh mmaps whose page faults cost as much as the kernels.
class BufferCache {
 public:
  static constexpr size_t kMinCachedBytes = size_t{64} << 10;
  static constexpr size_t kMaxCachedBytes = size_t{512} << 20;
  static constexpr size_t kGranule = size_t{4} << 10;

  static BufferCache& instance() {
    static BufferCache* cache = new BufferCache();  // never destroyed: storages may outlive statics
    return *cache;
  }
  static size_t round(size_t bytes) {
    if (bytes < kMinCachedBytes) return (bytes + Storage::kAlignment - 1) / Storage::kAlignment * Storage::kAlignment;
    return (bytes + kGranule - 1) / kGranule * kGranule;
  }
  void* take(size_t rounded) {
    if (rounded < kMinCachedBytes) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(rounded);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= rounded;
    return p;
  }
  void give(void* p, size_t rounded) {
    if (rounded >= kMinCachedBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + rounded <= kMaxCachedBytes) {
        free_[rounded].push_back(p);
        cached_ += rounded;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

}  // namespace

namespace {

// Held in an owned Storage's keep_alive_ while a MemoryBudget is charged for its bytes.
struct BudgetCharge {
  BudgetCharge(std::shared_ptr<MemoryBudget> b, size_t n) : budget(std::move(b)), bytes(n) {}
  ~BudgetCharge() { budget->release(bytes); }
  BudgetCharge(const BudgetCharge&) = delete;
  BudgetCharge& operator=(const BudgetCharge&) = delete;
  std::shared_ptr<MemoryBudget> budget;
  size_t bytes;
};

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t bytes, bool zero) {
  // Sizes this large cannot be rounded without wrapping; no allocator would grant them anyway.
  if (bytes > (size_t{1} << 62)) {
    const auto* budget = current_memory_budget();
    note_allocation_failure(bytes, budget ? budget->get() : nullptr);
    return nullptr;
  }
  size_t rounded = BufferCache::round(bytes == 0 ? 1 : bytes);
  std::shared_ptr<void> charge;
  if (const auto* budget = current_memory_budget()) {
    if (!(*budget)->try_charge(rounded)) {
      note_allocation_failure(bytes, budget->get());
      return nullptr;
    }
    charge = std::make_shared<BudgetCharge>(*budget, rounded);
  }
  void* p = BufferCache::instance().take(rounded);
  if (!p) p = std::aligned_alloc(kAlignment, rounded);
  if (!p) {
    note_allocation_failure(bytes, nullptr);
    return nullptr;
  }
  auto s = std::shared_ptr<Storage>(new Storage());
  if (zero) std::memset(p, 0, rounded);
  s->data_ = p;
  s->bytes_ = bytes;
  s->capacity_ = rounded;
  s->owned_ = true;
  s->keep_alive_ = std::move(charge);
  return s;
}

std::shared_ptr<Storage> Storage::allocate_strings(size_t count) {
  auto s = std::shared_ptr<Storage>(new Storage());
  s->strings_ = std::make_unique<std::vector<std::string>>(count);
  s->data_ = s->strings_->data();
  s->bytes_ = count * sizeof(std::string);
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t bytes, Device device,
                                       std::shared_ptr<void> keep_alive) {
  auto s = std::shared_ptr<Storage>(new Storage());
  s->data_ = data;
  s->bytes_ = bytes;
  s->device_ = device;
  s->keep_alive_ = std::move(keep_alive);
  return s;
}

Storage::~Storage() {
  if (owned_) BufferCache::instance().give(data_, capacity_);
}

void Tensor::compute_contiguous_strides() {
  strides_.assign(shape_.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape_.size()) - 2; i >= 0; --i)
    strides_[i] = strides_[i + 1] * shape_[i + 1];
}

Expected<Tensor> Tensor::create(DType dtype, Shape shape, bool zero) {
  int64_t n = shape_numel(shape);
  if (n < 0) return Status(StatusCode::invalid_argument, "tensor shape " + shape_str(shape) + " is negative or too large");
  if (dtype_size(dtype) == 0) return Status(StatusCode::unsupported, std::string("cannot allocate dtype ") + dtype_name(dtype));
  if (static_cast<uint64_t>(n) > (uint64_t{1} << 62) / dtype_size(dtype)) {
    note_allocation_failure(SIZE_MAX, nullptr);
    return Status(StatusCode::out_of_memory, "tensor of shape " + shape_str(shape) + " is too large");
  }
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = n;
  t.compute_contiguous_strides();
  if (dtype == DType::string) {
    t.storage_ = Storage::allocate_strings(static_cast<size_t>(n));
  } else {
    t.storage_ = Storage::allocate(static_cast<size_t>(n) * dtype_size(dtype), zero);
  }
  if (!t.storage_) {
    const AllocationFailure& f = last_allocation_failure();
    return Status(StatusCode::out_of_memory,
                  "cannot allocate " + std::to_string(n * dtype_size(dtype)) + " bytes for a tensor of shape " +
                      shape_str(t.shape_) + (f.over_budget ? ": " + describe_allocation_failure(f) : std::string()));
  }
  return t;
}

Tensor Tensor::uninitialized(DType dtype, Shape shape) {
  auto t = create(dtype, std::move(shape), false);
  if (!t.ok()) throw std::bad_alloc();
  return std::move(t).value();
}

Tensor::Tensor(DType dtype, Shape shape) {
  auto t = create(dtype, std::move(shape));
  if (!t.ok()) throw std::bad_alloc();
  *this = std::move(t).value();
}

Tensor::Tensor(DType dtype, Shape shape, std::shared_ptr<Storage> storage, int64_t offset)
    : dtype_(dtype), shape_(std::move(shape)), offset_(offset), storage_(std::move(storage)) {
  numel_ = shape_numel(shape_);
  compute_contiguous_strides();
}

Tensor Tensor::with_layout(DType dtype, Shape shape, std::shared_ptr<Storage> storage,
                           std::shared_ptr<const Layout> layout) {
  Tensor t(dtype, std::move(shape), std::move(storage), 0);
  t.layout_ = std::move(layout);
  return t;
}

bool Tensor::is_contiguous() const {
  if (layout_) return false;
  int64_t expected = 1;
  for (int64_t i = rank() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void* Tensor::raw_data() {
  if (!storage_) return nullptr;
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}
const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

Tensor Tensor::reshape(const Shape& shape) const {
  Tensor t = is_contiguous() ? *this : contiguous();  // converts a backend layout to plain
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.compute_contiguous_strides();
  return t;
}

Tensor Tensor::permute(const std::vector<int64_t>& perm) const {
  Tensor t = to_plain();
  for (size_t i = 0; i < perm.size(); ++i) {
    t.shape_[i] = shape_[perm[i]];
    t.strides_[i] = strides_[perm[i]];
  }
  return t;
}

namespace {
template <typename T>
void strided_copy(const Tensor& src, T* dst) {
  const T* base = static_cast<const T*>(src.storage()->data()) + src.offset();
  int64_t r = src.rank();
  std::vector<int64_t> idx(r, 0);
  for (int64_t n = 0; n < src.numel(); ++n) {
    int64_t off = 0;
    for (int64_t d = 0; d < r; ++d) off += idx[d] * src.strides()[d];
    dst[n] = base[off];
    for (int64_t d = r - 1; d >= 0; --d) {
      if (++idx[d] < src.shape()[d]) break;
      idx[d] = 0;
    }
  }
}
}  // namespace

Tensor Tensor::contiguous() const {
  if (layout_) return layout_->to_plain(*this);
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  if (layout_) return layout_->to_plain(*this).clone();
  Tensor out(dtype_, shape_);
  if (numel_ == 0) return out;
  if (dtype_ == DType::string) {
    strided_copy<std::string>(*this, out.data<std::string>());
  } else if (is_contiguous()) {
    std::memcpy(out.raw_data(), raw_data(), nbytes());
  } else {
    switch (dtype_size(dtype_)) {
      case 1: strided_copy<uint8_t>(*this, out.data<uint8_t>()); break;
      case 2: strided_copy<uint16_t>(*this, out.data<uint16_t>()); break;
      case 4: strided_copy<uint32_t>(*this, out.data<uint32_t>()); break;
      case 8: strided_copy<uint64_t>(*this, out.data<uint64_t>()); break;
      default: break;
    }
  }
  return out;
}

double Tensor::element_as_double(int64_t i) const {
  Tensor c = contiguous();
  const void* p = c.raw_data();
  switch (dtype_) {
    case DType::float32: return static_cast<const float*>(p)[i];
    case DType::float64: return static_cast<const double*>(p)[i];
    case DType::float16: return static_cast<float>(static_cast<const Half*>(p)[i]);
    case DType::bfloat16: return static_cast<float>(static_cast<const BFloat16*>(p)[i]);
    case DType::int8: return static_cast<const int8_t*>(p)[i];
    case DType::int16: return static_cast<const int16_t*>(p)[i];
    case DType::int32: return static_cast<const int32_t*>(p)[i];
    case DType::int64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DType::uint8: return static_cast<const uint8_t*>(p)[i];
    case DType::uint16: return static_cast<const uint16_t*>(p)[i];
    case DType::uint32: return static_cast<const uint32_t*>(p)[i];
    case DType::uint64: return static_cast<double>(static_cast<const uint64_t*>(p)[i]);
    case DType::boolean: return static_cast<const bool*>(p)[i] ? 1.0 : 0.0;
    default: return std::nan("");
  }
}

}  // namespace hwopt
