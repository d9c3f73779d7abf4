// The one definition of SQNR / cosine / relative error (algorithms/metrics.hpp) and its
// convention for the degenerate cases; expected values are the convention's, written out.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "algorithms/metrics.hpp"

namespace mx::algo {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Metrics, DegenerateCases) {
  // Both all zero: q reproduces x exactly.
  EXPECT_EQ(sqnr_db(0, 0), kInf);
  EXPECT_EQ(cosine_similarity(0, 0, 0), 1.0);
  EXPECT_EQ(rel_fro_error(0, 0), 0.0);
  // x zero, q not.
  EXPECT_EQ(sqnr_db(0, 4), -kInf);
  EXPECT_EQ(cosine_similarity(0, 0, 4), 0.0);
  EXPECT_EQ(rel_fro_error(0, 4), kInf);
  // q zero, x not: the error is x itself.
  EXPECT_EQ(sqnr_db(4, 4), 0.0);
  EXPECT_EQ(cosine_similarity(0, 4, 0), 0.0);
  EXPECT_EQ(rel_fro_error(4, 4), 1.0);
  // Exact.
  EXPECT_EQ(sqnr_db(9, 0), kInf);
}

TEST(Metrics, OrdinaryValues) {
  EXPECT_DOUBLE_EQ(sqnr_db(100, 1), 20.0);
  EXPECT_DOUBLE_EQ(cosine_similarity(6, 4, 9), 1.0);
  EXPECT_DOUBLE_EQ(cosine_similarity(-3, 4, 9), -0.5);
  EXPECT_DOUBLE_EQ(rel_fro_error(16, 4), 0.5);
}

TEST(Metrics, ErrorStatsFollowsTheConvention) {
  const Mat z = Mat::Zero(3, 4);
  const ErrorStats s = error_stats(z, z);
  EXPECT_EQ(s.sqnr_db, kInf);
  EXPECT_EQ(s.cosine, 1.0);  // 0 before the metrics were unified
  EXPECT_EQ(s.rel_fro, 0.0);
  EXPECT_EQ(s.mse, 0.0);
  Mat q = z;
  q(1, 2) = 2;
  const ErrorStats t = error_stats(z, q);
  EXPECT_EQ(t.sqnr_db, -kInf);
  EXPECT_EQ(t.cosine, 0.0);
  EXPECT_EQ(t.rel_fro, kInf);  // 0 before the metrics were unified
  const ErrorStats u = error_stats(q, z);
  EXPECT_EQ(u.sqnr_db, 0.0);
  EXPECT_EQ(u.cosine, 0.0);
  EXPECT_EQ(u.rel_fro, 1.0);
}

}  // namespace
}  // namespace mx::algo
