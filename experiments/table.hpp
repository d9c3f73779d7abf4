// Result file -> a paper-style table: one row per value of `rows`, one column per value of
// `cols`, cells the metric. Points are first filtered by the `where` conditions (key=value,
// all must hold); what still differs inside a cell is averaged (arithmetic mean of the
// metric, e.g. the mean of SQNR in dB over seeds), and a note under the table says over
// which parameters. Row and column values follow the config's axis order (/axes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "experiments/h5_results.hpp"

namespace mx::experiments {

enum class TableStyle { kMarkdown, kLatex, kCsv };
std::optional<TableStyle> parse_table_style(std::string_view s);

struct TableSpec {
  std::string rows = "format";
  std::string cols = "block_size";
  std::string metric = "sqnr_db";
  std::vector<std::pair<std::string, std::string>> where;
  TableStyle style = TableStyle::kMarkdown;
  // Digits: after the point for *_db and *_pct metrics (default 2), significant digits for
  // the others (default 4); CSV defaults to full precision (shortest round trip).
  int precision = -1;
};

// Throws std::runtime_error naming the flag (--rows, --cols, --metric, --where) on a bad spec.
std::string format_table(const ResultFile& r, const TableSpec& spec);

// "key=value" -> {key, value}; throws naming --where.
std::pair<std::string, std::string> parse_where(const std::string& s);

}  // namespace mx::experiments
