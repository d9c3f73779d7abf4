#include "cli_util.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace mx::experiments::testing {
namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
bool may_differ(std::string_view name) {
  for (const char* w : {"time", "timing", "elapsed", "duration", "host", "pid"})
    if (name.find(w) != std::string_view::npos) return true;
  return false;
}
}  // namespace

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_prefix,
            const std::vector<std::string>& env) {
  const std::string out = log_prefix + ".out", err = log_prefix + ".err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fo < 0 || fe < 0) ::_exit(127);
    ::dup2(fo, 1);
    ::dup2(fe, 2);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

Exit wait_for(pid_t pid, const std::string& log_prefix) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  Exit e;
  if (WIFEXITED(st)) e.code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) e.signal = WTERMSIG(st);
  e.out = slurp(log_prefix + ".out");
  e.err = slurp(log_prefix + ".err");
  return e;
}

Exit run(const std::vector<std::string>& argv, const std::string& log_prefix,
         const std::vector<std::string>& env) {
  return wait_for(spawn(argv, log_prefix, env), log_prefix);
}

std::string compare_results(const ResultFile& a, const ResultFile& b) {
  std::string diff;
  auto index = [&](const ResultFile& r, const char* which) {
    std::map<std::string, const PointRecord*> m;
    for (const auto& p : r.records)
      if (!m.emplace(get_fixed(p.row.point_id), &p).second)
        diff += fmt::format("{}: point {} appears twice\n", which, get_fixed(p.row.point_id));
    return m;
  };
  const auto ma = index(a, "a"), mb = index(b, "b");
  if (a.records.size() != b.records.size())
    diff += fmt::format("{} points vs {}\n", a.records.size(), b.records.size());
  for (const auto& [id, pa] : ma) {
    const auto it = mb.find(id);
    if (it == mb.end()) {
      diff += fmt::format("point {} missing from b\n", id);
      continue;
    }
    const PointRecord* pb = it->second;
    for (const FieldDef& f : point_fields()) {
      if (may_differ(f.name)) continue;
      const char* x = reinterpret_cast<const char*>(&pa->row) + f.offset;
      const char* y = reinterpret_cast<const char*>(&pb->row) + f.offset;
      if (std::memcmp(x, y, f.size) != 0)
        diff += fmt::format("point {} field {}: {} vs {}\n", id, f.name, field_string(pa->row, f),
                            field_string(pb->row, f));
    }
    if (pa->hist != pb->hist) diff += fmt::format("point {}: histograms differ\n", id);
  }
  for (const auto& [id, pb] : mb)
    if (!ma.count(id)) diff += fmt::format("point {} missing from a\n", id);
  for (const auto& [k, v] : a.attrs)
    if (!may_differ(k) && (!b.attrs.count(k) || b.attrs.at(k) != v))
      diff += fmt::format("root attribute {} differs\n", k);
  for (const auto& [k, v] : b.attrs)
    if (!a.attrs.count(k)) diff += fmt::format("root attribute {} only in b\n", k);
  if (a.axes != b.axes) diff += "axes differ\n";
  if (a.complete != b.complete || a.points_total != b.points_total)
    diff += fmt::format("complete/points_total {}/{} vs {}/{}\n", a.complete, a.points_total,
                        b.complete, b.points_total);
  return diff;
}

}  // namespace mx::experiments::testing
