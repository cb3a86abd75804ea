#include "core/npy.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"

namespace hwopt {

namespace {

Status bad(const std::string& what, const std::string& msg) {
  return Status(StatusCode::invalid_argument, fmt::format("{}: {}", what, msg));
}

bool descr_to_dtype(const std::string& d, DType& out) {
  static const std::pair<const char*, DType> table[] = {
      {"<f4", DType::float32}, {"<f8", DType::float64}, {"<f2", DType::float16}, {"|i1", DType::int8},
      {"<i1", DType::int8},    {"<i2", DType::int16},   {"<i4", DType::int32},   {"<i8", DType::int64},
      {"|u1", DType::uint8},   {"<u1", DType::uint8},   {"<u2", DType::uint16},  {"<u4", DType::uint32},
      {"<u8", DType::uint64},  {"|b1", DType::boolean}, {"<b1", DType::boolean}};
  for (const auto& [s, t] : table)
    if (d == s) {
      out = t;
      return true;
    }
  return false;
}

const char* dtype_to_descr(DType d) {
  switch (d) {
    case DType::float32: return "<f4";
    case DType::float64: return "<f8";
    case DType::float16: return "<f2";
    case DType::bfloat16: return "<u2";
    case DType::int8: return "|i1";
    case DType::int16: return "<i2";
    case DType::int32: return "<i4";
    case DType::int64: return "<i8";
    case DType::uint8: return "|u1";
    case DType::uint16: return "<u2";
    case DType::uint32: return "<u4";
    case DType::uint64: return "<u8";
    case DType::boolean: return "|b1";
    default: return nullptr;
  }
}

// Finds the value text after 'key': in a Python dict literal header.
bool header_value(const std::string& h, const std::string& key, std::string& out) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t c = h.find(':', k);
  if (c == std::string::npos) return false;
  size_t i = c + 1;
  while (i < h.size() && h[i] == ' ') ++i;
  if (i >= h.size()) return false;
  if (h[i] == '\'') {
    size_t e = h.find('\'', i + 1);
    if (e == std::string::npos) return false;
    out = h.substr(i + 1, e - i - 1);
  } else if (h[i] == '(') {
    size_t e = h.find(')', i);
    if (e == std::string::npos) return false;
    out = h.substr(i + 1, e - i - 1);
  } else {
    size_t e = h.find_first_of(",}", i);
    if (e == std::string::npos) return false;
    out = h.substr(i, e - i);
  }
  return true;
}

}  // namespace

Expected<Tensor> parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return bad(what, "not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad(what, "truncated header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    return bad(what, fmt::format("unsupported .npy version {}", major));
  }
  if (header_len > bytes.size() - header_start) return bad(what, "truncated header");
  const std::string header = bytes.substr(header_start, header_len);
  std::string descr, order, shape_text;
  if (!header_value(header, "descr", descr)) return bad(what, "header has no 'descr'");
  if (!header_value(header, "fortran_order", order)) return bad(what, "header has no 'fortran_order'");
  if (!header_value(header, "shape", shape_text)) return bad(what, "header has no 'shape'");
  DType dtype;
  if (!descr_to_dtype(descr, dtype)) return bad(what, fmt::format("unsupported dtype '{}'", descr));
  Shape shape;
  std::stringstream ss(shape_text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" L");
    if (b == std::string::npos) continue;
    size_t e = item.find_last_not_of(" L");
    std::string num = item.substr(b, e - b + 1);
    if (num.empty() || num.size() > 18 || num.find_first_not_of("0123456789") != std::string::npos)
      return bad(what, fmt::format("bad dimension '{}' in shape ({})", num, shape_text));
    shape.push_back(std::stoll(num));
  }
  int64_t n = shape_numel(shape);
  if (n < 0) return bad(what, fmt::format("shape ({}) is too large", shape_text));
  const size_t data_start = header_start + header_len;
  const size_t have = bytes.size() - data_start;
  if (static_cast<uint64_t>(n) > have / std::max<size_t>(dtype_size(dtype), 1) ||
      static_cast<uint64_t>(n) * dtype_size(dtype) != have)
    return bad(what, fmt::format("holds {} data bytes but shape {} of {} needs {}", have, shape_str(shape),
                                 dtype_name(dtype), static_cast<uint64_t>(n) * dtype_size(dtype)));
  bool fortran = order.find("True") != std::string::npos;
  Shape load_shape = shape;
  if (fortran) load_shape.assign(shape.rbegin(), shape.rend());
  auto t = Tensor::create(dtype, load_shape);
  if (!t.ok()) return t.status();
  Tensor out = std::move(t).value();
  if (n > 0) std::memcpy(out.raw_data(), bytes.data() + data_start, out.nbytes());
  if (dtype == DType::boolean)
    for (int64_t i = 0; i < n; ++i) out.data<uint8_t>()[i] = out.data<uint8_t>()[i] != 0;
  if (fortran) {
    std::vector<int64_t> perm(shape.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(perm.size() - 1 - i);
    out = out.permute(perm).contiguous();
  }
  return out;
}

Expected<Tensor> read_npy(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status(StatusCode::not_found, fmt::format("file '{}' not found", path));
  if (!S_ISREG(st.st_mode)) return Status(StatusCode::invalid_argument, fmt::format("'{}' is not a regular file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::io_error, fmt::format("cannot open '{}'", path));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(bytes, path);
}

Expected<std::string> to_npy(const Tensor& tensor) {
  const char* descr = dtype_to_descr(tensor.dtype());
  if (!descr) return Status(StatusCode::unsupported, fmt::format("cannot write dtype {} to .npy", dtype_name(tensor.dtype())));
  std::string shape;
  for (int64_t d : tensor.shape()) shape += std::to_string(d) + ",";
  if (tensor.rank() > 1) shape.pop_back();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  Tensor c = tensor.contiguous();
  out.append(static_cast<const char*>(c.raw_data()), c.nbytes());
  return out;
}

Status write_npy(const std::string& path, const Tensor& tensor) {
  auto bytes = to_npy(tensor);
  if (!bytes.ok()) return bytes.status();
  return write_file_atomic(path, *bytes);
}

}  // namespace hwopt
