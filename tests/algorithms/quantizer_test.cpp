// The quantizer interface: MX parameters + frozen-scale quantization equal the emulator's
// block quantizer bit for bit; the classic integer quantizers equal their naive formulas.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "algorithms/quantizer.hpp"
#include "emulator/quantize.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

Quantizer make(const std::string& name, int block = 32, int group = 0,
               ScaleRule rule = ScaleRule::kFloor) {
  return Quantizer(parse_quant_spec(name, block, group, RoundSpec{}, rule));
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(Quantizer, MxEqualsEmulatorBitForBit) {
  Mat w = testing::gaussian(6, 100, 1);  // 100: the last block of each row is short
  for (Index j = 0; j < w.cols(); ++j) w.col(j) *= std::ldexp(1.0, int(j % 13) - 6);
  w(0, 0) = 0;
  w(1, 5) = -0.0;
  for (Index j = 32; j < 64; ++j) w(2, j) = 0;  // an all-zero block
  w(3, 7) = 1e-40;                              // deep below any element's range
  const Tensor t = to_tensor(w, DType::kF64);
  for (const char* name :
       {"mxint8", "mxint4", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4_e2m1"}) {
    for (ScaleRule rule : {ScaleRule::kFloor, ScaleRule::kCeil, ScaleRule::kRceil}) {
      for (int block : {32, 16}) {
        const Quantizer q = make(name, block, 0, rule);
        const Mat got = q.quantize_rows(w);
        QuantizeOptions opt;
        opt.block = q.spec().mx;
        Tensor ref;
        quantize_tensor(opt, t, &ref, nullptr, nullptr);
        for (Index i = 0; i < w.rows(); ++i)
          for (Index j = 0; j < w.cols(); ++j)
            ASSERT_TRUE(same_bits(got(i, j), ref.f64[std::size_t(i * w.cols() + j)]))
                << name << " rule " << int(rule) << " block " << block << " at " << i << "," << j
                << ": " << got(i, j) << " vs " << ref.f64[std::size_t(i * w.cols() + j)];
      }
    }
  }
}

TEST(Quantizer, IntSymmetricPerChannelGroupTensor) {
  const Mat w = testing::gaussian(5, 64, 2);
  const Quantizer ch = make("int4"), gr = make("int4", 32, 16), tn = make("int4_tensor");
  EXPECT_EQ(gr.spec().kind, QuantKind::kIntGroup);
  const Mat qc = ch.quantize_rows(w), qg = gr.quantize_rows(w), qt = tn.quantize_rows(w);
  const double tmax = w.cwiseAbs().maxCoeff();
  for (Index i = 0; i < w.rows(); ++i) {
    const double rmax = w.row(i).cwiseAbs().maxCoeff();
    for (Index j = 0; j < w.cols(); ++j) {
      const double gmax = w.row(i).segment(j / 16 * 16, 16).cwiseAbs().maxCoeff();
      EXPECT_EQ(qc(i, j), std::nearbyint(w(i, j) / (rmax / 7)) * (rmax / 7));
      EXPECT_EQ(qg(i, j), std::nearbyint(w(i, j) / (gmax / 7)) * (gmax / 7));
      EXPECT_EQ(qt(i, j), std::nearbyint(w(i, j) / (tmax / 7)) * (tmax / 7));
    }
  }
}

TEST(Quantizer, IntAsymmetricIsGptqFormula) {
  Mat w = testing::gaussian(4, 32, 3).array() + 0.7;
  const Quantizer q = make("int3_asym");
  const Mat got = q.quantize_rows(w);
  for (Index i = 0; i < w.rows(); ++i) {
    const double lo = std::min(w.row(i).minCoeff(), 0.0), hi = std::max(w.row(i).maxCoeff(), 0.0);
    const double scale = (hi - lo) / 7, zero = std::nearbyint(-lo / scale);
    for (Index j = 0; j < w.cols(); ++j) {
      const double want =
          scale * (std::clamp(std::nearbyint(w(i, j) / scale) + zero, 0.0, 7.0) - zero);
      EXPECT_EQ(got(i, j), want);
    }
  }
}

TEST(Quantizer, RoundHalfEvenAndAway) {
  EXPECT_EQ(round_int(2.5, Rounding::kNearestEven), 2.0);
  EXPECT_EQ(round_int(3.5, Rounding::kNearestEven), 4.0);
  EXPECT_EQ(round_int(-2.5, Rounding::kNearestEven), -2.0);
  EXPECT_EQ(round_int(2.5, Rounding::kNearestAway), 3.0);
  EXPECT_EQ(round_int(-2.5, Rounding::kNearestAway), -3.0);
  EXPECT_EQ(round_int(0.49999999999999994, Rounding::kNearestAway), 0.0);
}

TEST(Quantizer, CountsSaturationAndUnderflow) {
  // MXINT4, floor rule: amax 1.9 gives X = 1; 1.9 saturates to 1.75; 0.1 rounds to 0.
  Mat w(1, 4);
  w << 1.9, 0.1, -0.3, 0.0;
  QuantCounts c;
  const Mat q = make("mxint4").quantize_rows(w, &c);
  EXPECT_EQ(q(0, 0), 1.75);
  EXPECT_EQ(q(0, 1), 0.0);
  EXPECT_EQ(c.total, 4u);
  EXPECT_EQ(c.saturated, 1u);
  EXPECT_EQ(c.underflow, 1u);  // 0.1; the exact zero is not counted
  const Quantizer q4 = make("mxint4");
  const RowParams p = q4.find_params_row(w.data(), 4, 1);
  EXPECT_EQ(q4.max_magnitude(p), 1.75);
}

TEST(Quantizer, ParseErrorsNameTheCulprit) {
  for (const char* bad : {"mxfp9", "int1", "int4_foo", "int4_g0", "nvfp4", "mxint8x"}) {
    try {
      parse_quant_spec(bad, 32, 0, RoundSpec{}, ScaleRule::kFloor);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(
      parse_quant_spec("mxint4", 32, 0, RoundSpec{Rounding::kStochastic}, ScaleRule::kFloor),
      std::invalid_argument);
  EXPECT_EQ(parse_quant_spec("none", 32, 0, RoundSpec{}, ScaleRule::kFloor).kind, QuantKind::kNone);
  EXPECT_EQ(parse_quant_spec("int8_g64_asym", 32, 0, RoundSpec{}, ScaleRule::kFloor).group_size,
            64);
}

}  // namespace
}  // namespace mx::algo
