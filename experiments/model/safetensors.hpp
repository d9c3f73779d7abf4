// Reader of the safetensors checkpoint format (Hugging Face): an 8-byte little-endian header
// length N, N bytes of JSON ({name: {dtype, shape, data_offsets: [begin, end]}, optional
// "__metadata__"}), then the data section; offsets are relative to the data section. Files are
// memory-mapped; tensors are converted to fp32 on read (BF16 and F16 exactly). A sharded
// checkpoint is a folder with model.safetensors.index.json ({"weight_map": {name: file}}).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mx::model {

struct StTensorInfo {
  std::string dtype;  // as in the header: F32, F16, BF16, I8, ...
  std::vector<std::int64_t> shape;
  std::size_t begin = 0, end = 0;  // byte offsets into the data section
  std::size_t numel() const;
};

// The parsed header of a safetensors file held in `data` (`size` bytes: the whole file):
// every tensor's dtype, shape and offsets checked against the size (no overflow, no overlap).
// Throws ModelError naming `path`; quoted names and values are escaped.
struct StHeader {
  std::map<std::string, StTensorInfo> tensors;
  std::size_t data_start = 0;
};
StHeader parse_safetensors_header(const unsigned char* data, std::size_t size,
                                  const std::string& path);

// One memory-mapped .safetensors file. Opening validates the header and every tensor's
// offsets against the file size (a truncated file fails here, naming the tensor).
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, StTensorInfo>& tensors() const { return tensors_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const StTensorInfo& info(const std::string& name) const;  // throws naming the tensor
  // The tensor's values as fp32 (F32 / F16 / BF16; other dtypes throw naming tensor and
  // dtype).
  std::vector<float> read_f32(const std::string& name) const;

 private:
  std::string path_;
  const unsigned char* map_ = nullptr;
  std::size_t size_ = 0, data_start_ = 0;
  std::map<std::string, StTensorInfo> tensors_;
};

// A checkpoint folder: model.safetensors, or model.safetensors.index.json and its shards.
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& dir);
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  const StTensorInfo& info(const std::string& name) const;  // throws "missing tensor NAME"
  std::vector<float> read_f32(const std::string& name) const;
  std::vector<std::string> names() const;
  std::size_t num_files() const { return files_.size(); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

// Exact IEEE half / bfloat16 -> fp32 (bit manipulations; exposed for tests).
float half_to_float(std::uint16_t h);
float bf16_to_float(std::uint16_t b);

}  // namespace mx::model
