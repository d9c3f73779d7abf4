// The run list: order, ids and seeds depend on a point's parameters only.
#include <gtest/gtest.h>

#include <set>

#include "experiments/config.hpp"
#include "experiments/sweep.hpp"

namespace mx::experiments {
namespace {

SweepConfig parse(const std::string& sweep) {
  return parse_config("[sweep]\n" + sweep +
                          "\n[workloads.a]\nkind = \"normal\"\nshape = [8]\n"
                          "[workloads.b]\nkind = \"laplace\"\nshape = [8]\n",
                      "t.toml", "", "t");
}

TEST(SweepRunList, CrossProductInNestingOrder) {
  const auto pts =
      expand(parse("formats = [\"mxint8\", \"mxfp4_e2m1\"]\nblock_sizes = [16, 32]\n"
                   "roundings = [\"nearest-even\", \"stochastic\"]\nseeds = [0, 1]\n"
                   "workloads = [\"b\", \"a\"]"));
  ASSERT_EQ(pts.size(), 2u * 2 * 2 * 2 * 2);
  EXPECT_EQ(pts[0].key(),
            "workload=b;seed=0;format=mxint8;block_size=16;scale_rule=floor;rounding=nearest-even");
  EXPECT_EQ(pts[1].key(),
            "workload=b;seed=0;format=mxint8;block_size=16;scale_rule=floor;rounding=stochastic");
  EXPECT_EQ(pts[2].block_size, 32);
  EXPECT_EQ(pts[4].format, "mxfp4_e2m1");
  EXPECT_EQ(pts[8].seed, 1);
  EXPECT_EQ(pts[16].workload, "a");
  std::set<std::string> ids;
  std::set<std::uint64_t> seeds;
  for (const auto& p : pts) {
    ids.insert(p.id());
    seeds.insert(p.rounding_seed());
    EXPECT_EQ(p.id().size(), 16u);
  }
  EXPECT_EQ(ids.size(), pts.size());
  EXPECT_EQ(seeds.size(), pts.size());
}

TEST(SweepRunList, IdsAndSeedsDoNotDependOnPositionOrConfigOrder) {
  const auto a = expand(parse("formats = [\"mxint8\", \"mxfp4_e2m1\"]\nblock_sizes = [16, 32]"));
  const auto b = expand(parse("formats = [\"mxfp4_e2m1\", \"mxint8\"]\nblock_sizes = [32, 16, 8]"));
  for (const auto& p : a) {
    bool found = false;
    for (const auto& q : b)
      if (q.key() == p.key()) {
        EXPECT_EQ(q.id(), p.id());
        EXPECT_EQ(q.rounding_seed(), p.rounding_seed());
        found = true;
      }
    EXPECT_TRUE(found) << p.key();
  }
}

TEST(SweepRunList, HashIsStable) {
  // Result files written by earlier versions key their points by these hashes.
  // Values from an independent Python implementation of FNV-1a 64 + SplitMix64's finaliser.
  EXPECT_EQ(hash_key(""), 0xf52a15e9a9b5e89bull);
  const Point p{"llm_act", 0, "mxfp8_e4m3", 32, ScaleRule::kFloor, Rounding::kNearestEven};
  EXPECT_EQ(p.id(), "aaee99cdfe629ec6");
  EXPECT_EQ(data_seed("a", 0), data_seed("a", 0));
  EXPECT_NE(data_seed("a", 0), data_seed("a", 1));
  EXPECT_NE(data_seed("a", 0), data_seed("b", 0));
}

TEST(SweepRunList, PointFormatCarriesBlockSizeAndRule) {
  const Point p{"w", 0, "mxfp6_e2m3", 64, ScaleRule::kRceil, Rounding::kTowardZero};
  const MxFormat f = p.mx_format();
  EXPECT_EQ(f.block_size, 64);
  EXPECT_EQ(f.rule, ScaleRule::kRceil);
  EXPECT_EQ(f.elem, kE2M3);
}

}  // namespace
}  // namespace mx::experiments
