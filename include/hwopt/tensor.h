// Tensors: dtype, shape, strides and reference-counted aligned storage that knows its device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hwopt/status.h"

namespace hwopt {

/// Element types. The numbering is ONNX's TensorProto.DataType, so values convert 1:1.
enum class DType : int32_t {
  undefined = 0,
  float32 = 1,
  uint8 = 2,
  int8 = 3,
  uint16 = 4,
  int16 = 5,
  int32 = 6,
  int64 = 7,
  string = 8,
  boolean = 9,
  float16 = 10,
  float64 = 11,
  uint32 = 12,
  uint64 = 13,
  bfloat16 = 16,
};

/// Size of one element in bytes; 0 for undefined, sizeof(std::string) for string.
size_t dtype_size(DType dtype);
/// Lower-case name ("float32", "int64", ...); "dtype(N)" for unknown values.
const char* dtype_name(DType dtype);
/// True for the values listed in DType (what a model may use).
bool dtype_is_known(int32_t onnx_type);
bool dtype_is_float(DType dtype);    // float16, bfloat16, float32, float64
bool dtype_is_integer(DType dtype);  // signed and unsigned integers (not bool)
bool dtype_is_signed(DType dtype);

/// IEEE half precision, stored as bits; arithmetic goes through float.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f);  // NOLINT(implicit): round to nearest even
  operator float() const;  // NOLINT(implicit)
  static Half from_bits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }
};

/// bfloat16 (upper half of a float32), stored as bits; arithmetic goes through float.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f);  // NOLINT(implicit): round to nearest even
  operator float() const {  // NOLINT(implicit)
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
  static BFloat16 from_bits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
};

/// C++ type for each DType.
template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::float64; };
template <> struct dtype_of<Half> { static constexpr DType value = DType::float16; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::bfloat16; };
template <> struct dtype_of<int8_t> { static constexpr DType value = DType::int8; };
template <> struct dtype_of<int16_t> { static constexpr DType value = DType::int16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::int64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::uint8; };
template <> struct dtype_of<uint16_t> { static constexpr DType value = DType::uint16; };
template <> struct dtype_of<uint32_t> { static constexpr DType value = DType::uint32; };
template <> struct dtype_of<uint64_t> { static constexpr DType value = DType::uint64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::boolean; };
template <> struct dtype_of<std::string> { static constexpr DType value = DType::string; };

enum class DeviceType { cpu = 0, cuda = 1 };

/// Where a tensor's bytes live. Copies between devices are explicit plan steps.
struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;
  bool operator==(const Device&) const = default;
  static Device cpu() { return {}; }
};
std::string device_name(Device device);

using Shape = std::vector<int64_t>;

/// Number of elements of a shape; -1 if a dim is negative or the product overflows int64.
int64_t shape_numel(const Shape& shape);
/// "[2,3,224,224]"
std::string shape_str(const Shape& shape);

/// Reference-counted buffer. Strings are kept as std::string objects (not raw bytes).
class Storage {
 public:
  static constexpr size_t kAlignment = 64;
  /// Allocates `bytes` on the CPU, zero-initialised unless `zero` is false; nullptr on failure.
  /// Large buffers come from and return to a process-wide cache of freed buffers, so steady-state
  /// runs reuse memory instead of mapping fresh pages every time.
  static std::shared_ptr<Storage> allocate(size_t bytes, bool zero = true);
  static std::shared_ptr<Storage> allocate_strings(size_t count);
  /// Wraps memory owned by someone else (e.g. a memory-planner arena); `keep_alive` holds it.
  static std::shared_ptr<Storage> wrap(void* data, size_t bytes, Device device,
                                       std::shared_ptr<void> keep_alive);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  std::vector<std::string>* strings() { return strings_.get(); }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  size_t capacity_ = 0;  // bytes actually allocated (owned buffers)
  bool owned_ = false;
  Device device_{};
  std::shared_ptr<void> keep_alive_;
  std::unique_ptr<std::vector<std::string>> strings_;
};

class Tensor;

/// A backend's physical layout of a tensor's bytes (e.g. oneDNN's blocked nChw16c). A tensor
/// with a layout keeps its logical shape; only the backend that made it reads its bytes, and
/// to_plain() converts it back to row-major. Tensors without a layout are plain row-major.
class Layout {
 public:
  virtual ~Layout() = default;
  /// Short name for logs and profiles, e.g. "onednn:nChw16c".
  virtual std::string name() const = 0;
  /// Bytes the layout occupies (may exceed numel * dtype size because of padding).
  virtual size_t bytes() const = 0;
  /// A plain row-major copy of `t`, which must use this layout.
  virtual Tensor to_plain(const Tensor& t) const = 0;
  /// True if the stored elements are quantized integers rather than the tensor's values: only
  /// kernels that declare they read quantized inputs get such a tensor as it is.
  virtual bool quantized() const { return false; }
};

/// An n-dimensional array: dtype, shape, strides (in elements) and a view into a Storage.
/// Copying a Tensor shares its storage (a view); use clone() for a deep copy.
class Tensor {
 public:
  Tensor() = default;
  /// Allocates a contiguous zero-filled tensor; throws std::bad_alloc on failure or on a shape
  /// whose size overflows. Use Tensor::create for a Status instead.
  Tensor(DType dtype, Shape shape);
  /// `zero` = false leaves the contents uninitialised (strings are always constructed).
  static Expected<Tensor> create(DType dtype, Shape shape, bool zero = true);
  /// Like Tensor(dtype, shape) but the contents are left uninitialised: for kernels that
  /// write every element.
  static Tensor uninitialized(DType dtype, Shape shape);
  /// A tensor viewing `storage` (no copy).
  Tensor(DType dtype, Shape shape, std::shared_ptr<Storage> storage, int64_t offset = 0);

  template <typename T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values) {
    Tensor t(dtype_of<T>::value, shape);
    T* dst = t.data<T>();
    for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < t.numel(); ++i) dst[i] = values[i];
    return t;
  }
  template <typename T>
  static Tensor scalar(T value) {
    return from_vector<T>({}, {value});
  }

  bool defined() const { return dtype_ != DType::undefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  int64_t offset() const { return offset_; }
  Device device() const { return storage_ ? storage_->device() : Device{}; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool is_contiguous() const;
  /// Null for plain row-major tensors; the backend layout otherwise.
  const std::shared_ptr<const Layout>& layout() const { return layout_; }
  bool is_plain() const { return layout_ == nullptr; }
  /// A tensor viewing `storage` in a backend layout (logical `shape`).
  static Tensor with_layout(DType dtype, Shape shape, std::shared_ptr<Storage> storage,
                            std::shared_ptr<const Layout> layout);
  /// This tensor as plain row-major (converted if it has a layout).
  Tensor to_plain() const { return layout_ ? layout_->to_plain(*this) : *this; }

  void* raw_data();
  const void* raw_data() const;
  /// Element pointer at the view's offset. The caller must use the matching T.
  template <typename T>
  T* data() {
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw_data());
  }

  /// A view with another shape of the same element count; the tensor must be contiguous.
  Tensor reshape(const Shape& shape) const;
  /// A strided view with permuted axes (no copy).
  Tensor permute(const std::vector<int64_t>& perm) const;
  /// A contiguous tensor with the same values (this one if already contiguous).
  Tensor contiguous() const;
  /// A deep, contiguous copy.
  Tensor clone() const;

  /// Element i (in logical row-major order) converted to double; for tests and printing.
  double element_as_double(int64_t i) const;

 private:
  void compute_contiguous_strides();
  DType dtype_ = DType::undefined;
  Shape shape_;
  Shape strides_;
  int64_t numel_ = 0;
  int64_t offset_ = 0;
  std::shared_ptr<Storage> storage_;
  std::shared_ptr<const Layout> layout_;
};

}  // namespace hwopt
