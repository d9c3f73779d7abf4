// `mxlab table` formatting on a tiny hand-made result file, against hand-written output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "experiments/h5_results.hpp"
#include "experiments/table.hpp"
#include "test_util.hpp"

namespace mx::experiments {
namespace {

constexpr const char* kConfig = R"([sweep]
formats = ["mxint8", "mxfp4_e2m1"]
block_sizes = [16, 32]
roundings = ["nearest-even", "toward-zero"]
[workloads.w]
kind = "normal"
shape = [4, 64]
)";

class SweepTable : public ::testing::Test {
 protected:
  void SetUp() override {
    const SweepConfig c = parse_config(kConfig, "t.toml", "", "t");
    auto pt = [](const char* f, int b, Rounding m) {
      return Point{"w", 0, f, b, ScaleRule::kFloor, m};
    };
    const auto ne = Rounding::kNearestEven, tz = Rounding::kTowardZero;
    // SQNR values chosen by hand; (mxfp4_e2m1, 32, toward-zero) is missing on purpose.
    std::vector<PointRecord> recs = {
        testing::make_record(pt("mxint8", 16, ne), 40.5),
        testing::make_record(pt("mxint8", 16, tz), 38.26),
        testing::make_record(pt("mxint8", 32, ne), 37.126),
        testing::make_record(pt("mxint8", 32, tz), 35.0),
        testing::make_record(pt("mxfp4_e2m1", 16, ne), 17.0),
        testing::make_record(pt("mxfp4_e2m1", 16, tz), 14.5),
        testing::make_record(pt("mxfp4_e2m1", 32, ne), 16.374),
    };
    std::reverse(recs.begin(), recs.end());  // completion order must not matter
    create_result_file(dir_ / "t.h5", c, RunInfo{"0", "x", "h", "t"}, 8);
    append_points(dir_ / "t.h5", recs, false);
    file_ = read_results(dir_ / "t.h5");
  }
  std::string table(TableSpec s) { return format_table(file_, s); }
  static TableSpec spec(std::vector<std::pair<std::string, std::string>> where,
                        TableStyle style = TableStyle::kMarkdown) {
    TableSpec s;
    s.where = std::move(where);
    s.style = style;
    return s;
  }

  testing::TempDir dir_{"table"};
  ResultFile file_;
};

TEST_F(SweepTable, Markdown) {
  EXPECT_EQ(table(spec({{"rounding", "nearest-even"}})),
            "| format \\ block_size | 16 | 32 |\n"
            "|:--|--:|--:|\n"
            "| mxint8 | 40.50 | 37.13 |\n"
            "| mxfp4_e2m1 | 17.00 | 16.37 |\n"
            "\n"
            "metric: sqnr_db; where rounding=nearest-even\n");
}

TEST_F(SweepTable, MissingCellsAndAveraging) {
  EXPECT_EQ(table(spec({{"rounding", "toward-zero"}})),
            "| format \\ block_size | 16 | 32 |\n"
            "|:--|--:|--:|\n"
            "| mxint8 | 38.26 | 35.00 |\n"
            "| mxfp4_e2m1 | 14.50 | - |\n"
            "\n"
            "metric: sqnr_db; where rounding=toward-zero\n");
  // Without a filter the two roundings are averaged: (40.5 + 38.26) / 2 = 39.38, ...
  EXPECT_EQ(table(spec({})),
            "| format \\ block_size | 16 | 32 |\n"
            "|:--|--:|--:|\n"
            "| mxint8 | 39.38 | 36.06 |\n"
            "| mxfp4_e2m1 | 15.75 | 16.37 |\n"
            "\n"
            "metric: sqnr_db; mean over rounding (2 values)\n");
}

TEST_F(SweepTable, Latex) {
  EXPECT_EQ(table(spec({{"rounding", "nearest-even"}}, TableStyle::kLatex)),
            "% mxlab table: metric: sqnr_db; where rounding=nearest-even\n"
            "\\begin{tabular}{lrr}\n"
            "\\toprule\n"
            " & \\multicolumn{2}{c}{block\\_size} \\\\\n"
            "\\cmidrule(lr){2-3}\n"
            "format & 16 & 32 \\\\\n"
            "\\midrule\n"
            "mxint8 & 40.50 & 37.13 \\\\\n"
            "mxfp4\\_e2m1 & 17.00 & 16.37 \\\\\n"
            "\\bottomrule\n"
            "\\end{tabular}\n");
}

TEST_F(SweepTable, Csv) {
  EXPECT_EQ(table(spec({{"rounding", "nearest-even"}}, TableStyle::kCsv)),
            "format,16,32\n"
            "mxint8,40.5,37.126\n"
            "mxfp4_e2m1,17,16.374\n");
  EXPECT_EQ(table(spec({{"rounding", "toward-zero"}}, TableStyle::kCsv)),
            "format,16,32\n"
            "mxint8,38.26,35\n"
            "mxfp4_e2m1,14.5,\n");
}

TEST_F(SweepTable, OtherAxesMetricsAndPrecision) {
  TableSpec s = spec({{"format", "mxint8"}});
  s.rows = "block_size";
  s.cols = "rounding";
  EXPECT_EQ(table(s),
            "| block_size \\ rounding | nearest-even | toward-zero |\n"
            "|:--|--:|--:|\n"
            "| 16 | 40.50 | 38.26 |\n"
            "| 32 | 37.13 | 35.00 |\n"
            "\n"
            "metric: sqnr_db; where format=mxint8\n");
  s.metric = "mse";  // make_record sets mse = 1 / (1 + sqnr): 4 significant digits
  s.where.emplace_back("block_size", "16");
  EXPECT_EQ(table(s),
            "| block_size \\ rounding | nearest-even | toward-zero |\n"
            "|:--|--:|--:|\n"
            "| 16 | 0.0241 | 0.02547 |\n"
            "\n"
            "metric: mse; where format=mxint8, block_size=16\n");
  s.precision = 2;
  s.style = TableStyle::kCsv;
  EXPECT_EQ(table(s), "block_size,nearest-even,toward-zero\n16,0.024,0.025\n");
  TableSpec bits = spec({{"rounding", "nearest-even"}});
  bits.rows = "bits";
  bits.precision = 1;
  EXPECT_EQ(table(bits),
            "| bits \\ block_size | 16 | 32 |\n"
            "|:--|--:|--:|\n"
            "| 4 | 17.0 | 16.4 |\n"
            "| 8 | 40.5 | 37.1 |\n"
            "\n"
            "metric: sqnr_db; where rounding=nearest-even\n");
}

TEST_F(SweepTable, ErrorsNameTheFlag) {
  auto err = [&](TableSpec s) {
    try {
      table(s);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  TableSpec s;
  s.rows = "colour";
  EXPECT_THAT(err(s), ::testing::StartsWith(
                          "--rows colour: not a sweep parameter (workload, seed, format"));
  s = TableSpec{};
  s.cols = "format";
  EXPECT_EQ(err(s), "--cols format: same as --rows");
  s = TableSpec{};
  s.metric = "snr";
  EXPECT_THAT(err(s), ::testing::StartsWith("--metric snr: not a statistic (mse, sqnr_db"));
  EXPECT_EQ(err(spec({{"rounding", "stochastic"}})),
            "--where rounding=stochastic: no point has rounding = stochastic (have: nearest-even, "
            "toward-zero)");
  EXPECT_THAT([] { parse_where("rounding"); },
              ::testing::ThrowsMessage<std::runtime_error>(
                  ::testing::StrEq("--where rounding: expected key=value")));
  EXPECT_EQ(parse_where("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
}

}  // namespace
}  // namespace mx::experiments
