// mxlab table: a sweep result file as a Markdown, LaTeX (booktabs) or CSV table.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "experiments/h5_results.hpp"
#include "experiments/table.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {
namespace {

struct TableArgs {
  std::string input, rows = "format", cols = "block_size", metric = "sqnr_db", as = "markdown";
  std::vector<std::string> where;
  int precision = -1;
};

int run_table(const TableArgs& a) {
  namespace xp = mx::experiments;
  xp::TableSpec t;
  const auto style = xp::parse_table_style(a.as);
  if (!style)
    throw std::runtime_error(
        fmt::format("--as: unknown table style '{}' (markdown, latex, csv)", a.as));
  t.style = *style;
  t.rows = a.rows;
  t.cols = a.cols;
  t.metric = a.metric;
  if (a.precision < -1 || a.precision > 17)
    throw std::runtime_error(fmt::format("--precision must be 0..17 (got {})", a.precision));
  t.precision = a.precision;
  for (const auto& w : a.where) t.where.push_back(xp::parse_where(w));
  xp::ResultFile r;
  try {
    r = xp::read_results(a.input);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("--input {}", e.what()));
  }
  const std::string s = xp::format_table(r, t);
  std::fwrite(s.data(), 1, s.size(), stdout);
  return 0;
}

}  // namespace

void register_table(CLI::App& app, std::vector<Command>& out) {
  auto args = std::make_shared<TableArgs>();
  CLI::App* sub = app.add_subcommand(
      "table", "a sweep result file as a Markdown, LaTeX (booktabs) or CSV table");
  sub->add_option("--input", args->input, "result file written by mxlab sweep")->required();
  sub->add_option("--rows", args->rows, "parameter along the rows (default format)");
  sub->add_option("--cols", args->cols, "parameter along the columns (default block_size)");
  sub->add_option("--metric", args->metric, "statistic in the cells (default sqnr_db)");
  sub->add_option("--as", args->as, "markdown (default) | latex | csv");
  sub->add_option("--where", args->where,
                  "keep only points with key=value (repeatable); parameters that still vary inside "
                  "a cell are averaged");
  sub->add_option(
      "--precision", args->precision,
      "digits: after the point for *_db/*_pct, significant otherwise (default 2 / 4; CSV: full)");
  out.push_back({sub, [args] { return run_table(*args); }});
}

MXLAB_COMMAND(30, register_table);

}  // namespace mx::cli
