// The checks every reader and writer of untrusted files shares (issue 21): regular files only
// where a file is read (a FIFO would block, a folder fails with a confusing message), sizes
// computed without overflow and bounded before anything is allocated, outputs that never name
// an input or each other, and all-or-nothing writing of several outputs (each to a temporary
// file, fsync'ed, then all renamed; the folder fsync'ed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mx {

struct Tensor;

// Opens `path` read-only without blocking on a FIFO and refuses anything but a regular file.
// Returns the descriptor (the caller closes it). Throws IoError naming the path.
int open_regular_file(const std::string& path);
// The same check for readers that open the file themselves (HDF5, std::ifstream): the path
// must exist and be a regular file. Returns its size in bytes.
std::uint64_t require_regular_file(const std::string& path);
// The whole regular file as bytes (at most `limit` bytes; larger is an error naming it).
std::string read_regular_file(const std::string& path,
                              std::uint64_t limit = std::uint64_t{1} << 30);

// The product of `dims` times `elem_bytes`, or an IoError "WHAT: shape ... overflows" when it
// does not fit in 64 bits.
std::uint64_t checked_bytes(const std::vector<std::uint64_t>& dims, std::uint64_t elem_bytes,
                            const std::string& what);
// Throws IoError "WHAT: needs N bytes, more than the memory of this machine (M bytes)" before
// an allocation that cannot succeed (the limit: physical memory, or MXLAB_MAX_ALLOC bytes).
void check_allocation(std::uint64_t bytes, const std::string& what);
// A dataset read from a file of `file_size` bytes claims `bytes`: an unfiltered dataset cannot
// hold more than its file (chunks never written read as fill values), a filtered
// (compressed) one at most 1024 times as much. Throws IoError naming WHAT, then checks the
// allocation.
void check_backed_size(std::uint64_t bytes, std::uint64_t file_size, bool filtered,
                       const std::string& what);
std::uint64_t allocation_limit();

// A file argument of a command: the flag that named it and the path (for an HDF5 spec
// `file.h5:/dataset`, the dataset part is the object within the file).
struct FileArg {
  std::string flag, spec;
};
// Throws IoError when an output names the same file as an input (by device and inode when it
// exists, by resolved path otherwise) or as another output. An HDF5 output may share the file
// of an HDF5 input when the datasets differ (the file is copied and the other datasets kept).
void check_distinct_files(const std::vector<FileArg>& inputs, const std::vector<FileArg>& outputs);

// Several outputs written all-or-nothing: stage() writes each one completely to a temporary
// file beside its target (fsync'ed); commit() renames them all into place and fsyncs their
// folders. Destroying an uncommitted set removes its temporary files, so a failure while
// writing any output leaves every earlier output (and any existing file) untouched.
class StagedOutputs {
 public:
  StagedOutputs() = default;
  StagedOutputs(const StagedOutputs&) = delete;
  StagedOutputs& operator=(const StagedOutputs&) = delete;
  ~StagedOutputs();
  void stage_bytes(const std::string& path, const void* data, std::size_t size);
  void stage_tensor(const std::string& spec, const Tensor& t);
  // For writers that produce the temporary file themselves: returns the temporary path to
  // write `path` to; it is renamed over `path` by commit().
  std::string stage_path(const std::string& path);
  void commit();

 private:
  struct Entry {
    std::string tmp, path;
  };
  std::vector<Entry> entries_;
};

// Internals of the writers, shared by npy.cpp, h5_tensor.cpp and StagedOutputs.
namespace io_detail {
void write_bytes_to(const std::string& tmp, const std::string& path, const void* const* parts,
                    const std::size_t* sizes, std::size_t count);     // write + fsync; removes tmp
void commit_rename(const std::string& tmp, const std::string& path);  // rename + fsync folder
void fsync_path(const std::string& path, bool folder);
std::string stage_tensor_file(const std::string& spec, const Tensor& t);  // returns the temp
void write_npy_to(const std::string& tmp, const std::string& path, const Tensor& t);
// Removes `path`'s temporaries (`path.tmp-PID`) whose process is gone (left by a SIGKILL).
void remove_dead_temps(const std::string& path);
}  // namespace io_detail

}  // namespace mx
