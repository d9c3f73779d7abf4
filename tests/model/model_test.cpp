// Unit tests of experiments/model: safetensors reader (synthetic files), Llama config,
// layer ids, the forward pass against the shipped reference logits, GQA, evaluation.
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "emulator/io/tensor_io.hpp"
#include "experiments/model/eval.hpp"
#include "experiments/model/llama_forward.hpp"
#include "experiments/model/model_error.hpp"
#include "experiments/model/safetensors.hpp"
#include "formats/codec.hpp"
#include "formats/descriptor.hpp"
#include "tests/cli/run_mxlab.hpp"
#include "tests/model/error_of.hpp"
#include "tests/model/st_writer.hpp"

namespace mx::model {
namespace {

namespace fs = std::filesystem;
using test::StEntry;

const std::string kModelDir = std::string(MX_SHARED_DIR) + "/models/bytellama-7m";

using mx::test::error_of;

TEST(Safetensors, HalfAndBf16ConvertExactly) {
  // Every fp16 code against the formats/ codec; bf16 is the top half of fp32.
  for (std::uint32_t c = 0; c < 0x10000; ++c) {
    const float f = half_to_float(static_cast<std::uint16_t>(c));
    const double want = decode(kFp16, c);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(f)) << c;
    } else {
      ASSERT_EQ(static_cast<double>(f), want) << std::hex << c;
      ASSERT_EQ(std::signbit(f), std::signbit(want)) << std::hex << c;
    }
  }
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_float(0xC020), -2.5f);
  EXPECT_EQ(bf16_to_float(0x0001), std::ldexp(1.0f, -133));
}

TEST(Safetensors, ReadsF32F16Bf16) {
  const auto dir = test::fresh_test_dir("st");
  const std::vector<float> f32 = {1.5f, -0.0f, 3.0e-40f, 65504.0f, -1e30f, 7.0f};
  const std::vector<std::uint16_t> f16 = {0x3C00, 0x0001, 0x7BFF, 0xFC00, 0x8000, 0x3555};
  const std::vector<std::uint16_t> bf16 = {0x3F80, 0x0001, 0x7F7F, 0xFF80, 0x8000, 0x4049};
  test::write_bytes((dir / "a.safetensors").string(),
                    test::safetensors_bytes({{"x", "F32", {2, 3}, test::f32_bytes(f32)},
                                             {"h", "F16", {6}, test::u16_bytes(f16)},
                                             {"b", "BF16", {3, 2}, test::u16_bytes(bf16)}},
                                            {{"__metadata__", {{"format", "pt"}}}}));
  const SafetensorsFile f((dir / "a.safetensors").string());
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.info("x").shape, (std::vector<std::int64_t>{2, 3}));
  const auto x = f.read_f32("x");
  for (std::size_t i = 0; i < f32.size(); ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(x[i]), std::bit_cast<std::uint32_t>(f32[i]));
  const auto h = f.read_f32("h");
  const std::vector<float> h_want = {1.0f,  std::ldexp(1.0f, -24), 65504.0f, -INFINITY,
                                     -0.0f, 0.333251953125f};
  for (std::size_t i = 0; i < h.size(); ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(h[i]), std::bit_cast<std::uint32_t>(h_want[i])) << i;
  const auto b = f.read_f32("b");
  const std::vector<float> b_want = {
      1.0f, std::ldexp(1.0f, -133), 0x1.FEp127f, -INFINITY, -0.0f, 3.140625f};
  for (std::size_t i = 0; i < b.size(); ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(b[i]), std::bit_cast<std::uint32_t>(b_want[i])) << i;
}

TEST(Safetensors, ShardedIndex) {
  const auto dir = test::fresh_test_dir("st");
  test::write_bytes((dir / "s1.safetensors").string(),
                    test::safetensors_bytes({{"a", "F32", {2}, test::f32_bytes({1, 2})}}));
  test::write_bytes((dir / "s2.safetensors").string(),
                    test::safetensors_bytes({{"b", "BF16", {1}, test::u16_bytes({0x4000})},
                                             {"c", "F32", {1}, test::f32_bytes({5})}}));
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"a": "s1.safetensors", "b": "s2.safetensors", "c": "s2.safetensors"}})";
  const Checkpoint ck(dir.string());
  EXPECT_EQ(ck.num_files(), 2u);
  EXPECT_EQ(ck.read_f32("a"), (std::vector<float>{1, 2}));
  EXPECT_EQ(ck.read_f32("b"), (std::vector<float>{2}));
  EXPECT_EQ(ck.read_f32("c"), (std::vector<float>{5}));
  EXPECT_NE(error_of([&] { ck.read_f32("zz"); }).find("missing tensor zz"), std::string::npos);
  // An index naming a tensor its shard lacks.
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map": {"a": "s1.safetensors", "q": "s1.safetensors"}})";
  EXPECT_NE(error_of([&] { Checkpoint c2(dir.string()); }).find("missing tensor q"),
            std::string::npos);
}

TEST(Safetensors, MalformedFilesNameTheProblem) {
  const auto dir = test::fresh_test_dir("st");
  const std::string p = (dir / "m.safetensors").string();
  const std::string good = test::safetensors_bytes(
      {{"w", "F32", {4}, test::f32_bytes({1, 2, 3, 4})}, {"i", "I8", {2}, {1, 2}}});
  test::write_bytes(p, good);
  {
    const SafetensorsFile f(p);
    EXPECT_NE(error_of([&] { f.read_f32("i"); }).find("tensor i has dtype I8, unsupported"),
              std::string::npos);
    EXPECT_NE(error_of([&] { f.read_f32("nope"); }).find("missing tensor nope"), std::string::npos);
  }
  // Truncated: the last tensor's data runs past the end.
  test::write_bytes(p, good.substr(0, good.size() - 3));
  EXPECT_NE(error_of([&] { SafetensorsFile f(p); }).find("truncated file"), std::string::npos);
  // Header length beyond the file.
  std::string bad = good;
  bad[5] = 1;
  test::write_bytes(p, bad);
  EXPECT_NE(error_of([&] { SafetensorsFile f(p); }).find("header length"), std::string::npos);
  // Shorter than the length field.
  test::write_bytes(p, "abc");
  EXPECT_NE(error_of([&] { SafetensorsFile f(p); }).find("too short"), std::string::npos);
  // Header not JSON.
  test::write_bytes(p, std::string("\x04\0\0\0\0\0\0\0{{{{", 12));
  EXPECT_NE(error_of([&] { SafetensorsFile f(p); }).find("not valid JSON"), std::string::npos);
  // Byte count not matching the shape.
  test::write_bytes(p, test::safetensors_bytes({{"w", "F32", {3}, test::f32_bytes({1, 2, 3, 4})}}));
  EXPECT_NE(error_of([&] { SafetensorsFile f(p); }).find("tensor w: 16 bytes for shape [3]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              SafetensorsFile f((dir / "missing.safetensors").string());
            }).find("cannot open"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Checkpoint c((dir / "nodir").string()); }).find("does not exist"),
            std::string::npos);
  EXPECT_NE(error_of([&] { Checkpoint c(dir.string()); }).find("no model.safetensors"),
            std::string::npos);
}

TEST(LlamaConfig, ParsesAndRejects) {
  const LlamaConfig c = parse_llama_config(
      R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 256, "hidden_size": 320,
          "intermediate_size": 864, "num_hidden_layers": 6, "num_attention_heads": 5,
          "num_key_value_heads": 1, "max_position_embeddings": 512, "rms_norm_eps": 1e-5,
          "rope_theta": 500000.0, "tie_word_embeddings": true})",
      "cfg");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.num_key_value_heads, 1);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_NE(error_of([] {
              parse_llama_config(R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"})",
                                 "cfg");
            }).find("unsupported architecture"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_llama_config(R"({"model_type": "llama", "vocab_size": 4})", "cfg");
            }).find("missing key hidden_size"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_llama_config(R"({"model_type": "llama", "vocab_size": 4, "hidden_size": 8,
                "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
                "num_key_value_heads": 3, "max_position_embeddings": 8})",
                                 "cfg");
            }).find("num_key_value_heads 3"),
            std::string::npos);
}

TEST(LayerId, NamesRoundTrip) {
  EXPECT_EQ(make_layer_id(3, LinearKind::kDown).name, "model.layers.3.mlp.down_proj");
  EXPECT_EQ(make_layer_id(0, LinearKind::kQ).name, "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(make_layer_id(-1, LinearKind::kLmHead).name, "lm_head");
  const auto id = parse_layer_id("model.layers.12.self_attn.v_proj");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->layer, 12);
  EXPECT_EQ(id->kind, LinearKind::kV);
  EXPECT_FALSE(parse_layer_id("model.layers.03.mlp.up_proj"));
  EXPECT_FALSE(parse_layer_id("model.layers.3.mlp.up"));
}

std::string tiny_config(int heads, int kv_heads, bool tied) {
  return "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": 16, \"hidden_size\": 8, "
         "\"intermediate_size\": 12, \"num_hidden_layers\": 1, \"num_attention_heads\": " +
         std::to_string(heads) + ", \"num_key_value_heads\": " + std::to_string(kv_heads) +
         ", \"head_dim\": 4, \"max_position_embeddings\": 8, \"rms_norm_eps\": 1e-5, "
         "\"tie_word_embeddings\": " +
         (tied ? "true" : "false") + "}";
}

// A tiny synthetic Llama (fp32 tensors, one layer, head_dim 4) written to `dir`. With
// kv_dup, the K and V weights hold kv_heads / 2 distinct heads, each repeated twice.
void write_tiny_llama(const fs::path& dir, int heads, int kv_heads, bool tied,
                      bool kv_dup = false) {
  const int vocab = 16, hidden = 8, inter = 12, hd = 4;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  auto randv = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = nd(rng);
    return v;
  };
  std::vector<StEntry> e;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= std::size_t(d);
    std::vector<float> v = randv(n);
    if (kv_dup &&
        (name.find("k_proj") != std::string::npos || name.find("v_proj") != std::string::npos)) {
      const std::size_t head = std::size_t(hd * hidden);
      for (std::size_t h = 1; h < std::size_t(kv_heads); h += 2)
        std::copy(v.begin() + long((h - 1) * head), v.begin() + long(h * head),
                  v.begin() + long(h * head));
    }
    e.push_back({name, "F32", shape, test::f32_bytes(v)});
  };
  add("model.embed_tokens.weight", {vocab, hidden});
  const std::string p = "model.layers.0.";
  add(p + "self_attn.q_proj.weight", {heads * hd, hidden});
  add(p + "self_attn.k_proj.weight", {kv_heads * hd, hidden});
  add(p + "self_attn.v_proj.weight", {kv_heads * hd, hidden});
  add(p + "self_attn.o_proj.weight", {hidden, heads * hd});
  add(p + "mlp.gate_proj.weight", {inter, hidden});
  add(p + "mlp.up_proj.weight", {inter, hidden});
  add(p + "mlp.down_proj.weight", {hidden, inter});
  add(p + "input_layernorm.weight", {hidden});
  add(p + "post_attention_layernorm.weight", {hidden});
  add("model.norm.weight", {hidden});
  if (!tied) add("lm_head.weight", {vocab, hidden});
  fs::create_directories(dir);
  test::write_bytes((dir / "model.safetensors").string(), test::safetensors_bytes(e));
  std::ofstream(dir / "config.json") << tiny_config(heads, kv_heads, tied);
}

TEST(LlamaWeights, ShapeMismatchAndMissingTensorAreNamed) {
  const auto dir = test::fresh_test_dir("llama");
  write_tiny_llama(dir, 2, 2, false);
  EXPECT_NO_THROW(LlamaModel::load(dir.string()));
  std::ofstream(dir / "config.json") << tiny_config(2, 1, false);  // k_proj now 4 x 8
  EXPECT_NE(error_of([&] { LlamaModel::load(dir.string()); })
                .find("tensor model.layers.0.self_attn.k_proj.weight: shape [8, 8] does not "
                      "match config.json (expected [4, 8])"),
            std::string::npos);
  std::ofstream(dir / "config.json") << tiny_config(2, 2, true);  // tied: lm_head not needed
  EXPECT_NO_THROW(LlamaModel::load(dir.string()));
  write_tiny_llama(dir, 2, 2, true);
  std::ofstream(dir / "config.json") << tiny_config(2, 2, false);
  EXPECT_NE(error_of([&] { LlamaModel::load(dir.string()); }).find("missing tensor lm_head.weight"),
            std::string::npos);
}

TEST(LlamaForward, GroupedQueryAttentionEqualsRepeatedKvHeads) {
  // 4 query heads sharing 2 KV heads == 4 query heads with 4 KV heads where heads 2i and
  // 2i+1 are copies: both give each query head h the KV head h / 2.
  const auto dir = test::fresh_test_dir("gqa");
  write_tiny_llama(dir / "gqa", 4, 2, true);
  LlamaModel gqa = LlamaModel::load((dir / "gqa").string());
  LlamaWeights w = load_llama_weights((dir / "gqa").string());
  for (int kind : {1, 2}) {
    RowMatrixXf& m = w.linears[0][std::size_t(kind)];
    RowMatrixXf rep(8 * 2, m.cols());
    for (int h = 0; h < 4; ++h) rep.middleRows(h * 4, 4) = m.middleRows((h / 2) * 4, 4);
    m = rep;
  }
  w.config.num_key_value_heads = 4;
  const LlamaModel mha(std::move(w));
  const std::vector<int> tokens = {3, 1, 4, 1, 5, 9, 2, 6};
  const RowMatrixXf a = gqa.forward(tokens), b = mha.forward(tokens);
  ASSERT_EQ(a.rows(), 8);
  ASSERT_EQ(a.cols(), 16);
  EXPECT_LE((a - b).cwiseAbs().maxCoeff(), 1e-5f);
  EXPECT_THROW(gqa.forward(std::vector<int>(9, 1)), ModelError);  // beyond the context
  EXPECT_THROW(gqa.forward(std::vector<int>{16}), ModelError);    // outside the vocabulary
}

TEST(LlamaForward, HookSeesEveryLinearInOrderAndOverrideWorks) {
  const auto dir = test::fresh_test_dir("hook");
  write_tiny_llama(dir, 2, 2, false);
  LlamaModel m = LlamaModel::load(dir.string());
  std::vector<std::string> seen;
  ForwardContext ctx;
  ctx.on_input = [&](const LayerId& id, const Eigen::Ref<const RowMatrixXf>& x) {
    seen.push_back(id.name);
    EXPECT_EQ(x.rows(), 5);
  };
  const std::vector<int> tokens = {1, 2, 3, 4, 5};
  const RowMatrixXf base = m.forward(tokens, ctx);
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen[0], "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(seen[6], "model.layers.0.mlp.down_proj");
  EXPECT_EQ(seen[7], "lm_head");
  // The pieces compose to forward().
  RowMatrixXf x = m.embed(tokens);
  m.run_decoder_layer(0, x);
  EXPECT_EQ(m.head(x), base);
  // Per-layer override: lm_head with zero weights gives zero logits; others unchanged.
  QuantLinear& head = m.linear("lm_head");
  head.set_weight(RowMatrixXf::Zero(head.out_features(), head.in_features()), LinearFormat{});
  EXPECT_EQ(m.forward(tokens).cwiseAbs().maxCoeff(), 0.0f);
  EXPECT_THROW(m.linear("model.layers.1.mlp.up_proj"), ModelError);
  // Input scales with compensated weights leave the (unquantized) layer unchanged.
  QuantLinear& up = m.linear("model.layers.0.mlp.up_proj");
  const Eigen::VectorXf s = Eigen::VectorXf::LinSpaced(8, 0.5f, 4.0f);
  RowMatrixXf ws = up.original_weight();
  for (int j = 0; j < 8; ++j) ws.col(j) /= s[j];
  up.set_weight(ws, LinearFormat{});
  up.set_input_scale(s);
  RowMatrixXf y, yr;
  const RowMatrixXf in = RowMatrixXf::Random(3, 8);
  up.forward(in, y);
  up.forward_reference(in, yr);
  EXPECT_LE((y - yr).cwiseAbs().maxCoeff(), 1e-5f);
}

TEST(QuantLinear, FormatsAndEmulatedAccumulator) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  RowMatrixXf w(6, 64), x(5, 64);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  QuantLinear lin(make_layer_id(0, LinearKind::kQ), w);
  // mxint8 weights + activations, fp32 GEMM == the same operands quantized by hand.
  const LinearFormat f = parse_linear_format("mxint8", "mxint8", 32, "fp32");
  lin.set_format(f);
  RowMatrixXf wq = w, xq = x, y, ye;
  quantize_rows_inplace(*f.weight, wq);
  quantize_rows_inplace(*f.act, xq);
  EXPECT_EQ(lin.weight(), wq);
  lin.forward(x, y);
  EXPECT_LE((y - xq * wq.transpose()).cwiseAbs().maxCoeff(), 1e-5f);
  // The exact accumulator: each output is the exactly rounded dot product of the operands.
  lin.set_format(parse_linear_format("mxint8", "mxint8", 32, "exact"));
  lin.forward(x, ye);
  for (Eigen::Index i = 0; i < ye.rows(); ++i)
    for (Eigen::Index j = 0; j < ye.cols(); ++j) {
      double d = 0;
      for (Eigen::Index k = 0; k < 64; ++k) d += double(xq(i, k)) * double(wq(j, k));
      EXPECT_EQ(ye(i, j), static_cast<float>(d)) << i << "," << j;
    }
  // Weight-only under an emulated model: the fp32 input meets mxint8 weights exactly.
  lin.set_format(parse_linear_format("mxint8", "none", 32, "exact"));
  lin.forward(x, ye);
  double d = 0;
  for (Eigen::Index k = 0; k < 64; ++k) d += double(x(0, k)) * double(wq(0, k));
  EXPECT_EQ(ye(0, 0), static_cast<float>(d));
  EXPECT_NE(
      error_of([] { parse_linear_format("mxint9x", "none", 32, "fp32"); }).find("--weight-format"),
      std::string::npos);
  EXPECT_NE(error_of([] { parse_linear_format("none", "e9m9", 32, "fp32"); }).find("--act-format"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_linear_format("none", "none", 32, "bogus"); }).find("--accum"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_linear_format("mxint8", "e4m3", 32, "exact"); }).find("--accum"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_linear_format("none", "none", 0, "fp32"); }).find("--block-size"),
            std::string::npos);
}

// ---- the shipped model -------------------------------------------------------------------

bool have_model() { return fs::exists(kModelDir + "/model.safetensors"); }

std::vector<std::int64_t> read_npy_i64(const std::string& path, std::vector<std::size_t>* shape) {
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t nl = all.find('\n');
  const std::string header = all.substr(0, nl);
  EXPECT_NE(header.find("'<i8'"), std::string::npos) << header;
  const std::size_t a = header.find("'shape': (") + 10, b = header.find(')', a);
  shape->clear();
  std::stringstream ss(header.substr(a, b - a));
  std::string part;
  while (std::getline(ss, part, ','))
    if (part.find_first_not_of(' ') != std::string::npos) shape->push_back(std::stoul(part));
  std::vector<std::int64_t> v((all.size() - nl - 1) / 8);
  std::memcpy(v.data(), all.data() + nl + 1, v.size() * 8);
  return v;
}

TEST(Bytellama, Fp32ForwardMatchesReferenceLogits) {
  if (!have_model()) GTEST_SKIP() << kModelDir << " missing";
  const LlamaModel m = LlamaModel::load(kModelDir);
  std::vector<std::size_t> tshape;
  const auto tokens = read_npy_i64(kModelDir + "/reference_tokens.npy", &tshape);
  const Tensor ref = read_npy(kModelDir + "/reference_logits.npy");
  ASSERT_EQ(tshape, (std::vector<std::size_t>{2, 512}));
  ASSERT_EQ(ref.shape, (std::vector<std::size_t>{2, 512, 256}));
  double max_diff = 0;
  for (std::size_t w = 0; w < 2; ++w) {
    std::vector<int> tk(512);
    for (std::size_t p = 0; p < 512; ++p) tk[p] = static_cast<int>(tokens[w * 512 + p]);
    const RowMatrixXf logits = m.forward(tk);
    for (Eigen::Index p = 0; p < 512; ++p)
      for (Eigen::Index j = 0; j < 256; ++j)
        max_diff = std::max(max_diff,
                            std::fabs(double(logits(p, j)) -
                                      ref.f32[(w * 512 + std::size_t(p)) * 256 + std::size_t(j)]));
  }
  std::printf("max |logit - reference| = %.3g\n", max_diff);
  EXPECT_LE(max_diff, 1e-3);
}

TEST(Bytellama, TwoWindowBpbIndependentOfThreads) {
  if (!have_model()) GTEST_SKIP() << kModelDir << " missing";
  const LlamaModel m = LlamaModel::load(kModelDir);
  const auto text = read_text(kModelDir + "/data/wiki_test.txt");
  EvalOptions o;
  o.windows = 2;
  const EvalResult r1 = evaluate(m, text, o);
  o.threads = 2;
  const EvalResult r2 = evaluate(m, text, o);
  EXPECT_EQ(r1.bits_per_byte, r2.bits_per_byte);
  EXPECT_EQ(r1.predictions, 1024u);
  EXPECT_TRUE(r1.per_layer.empty());              // no quantization, no statistics
  EXPECT_NEAR(r1.bits_per_byte, 1.825538, 5e-6);  // measured; the 128-window value is the README's
  EXPECT_NEAR(r1.perplexity, std::exp2(r1.bits_per_byte), 1e-12);
  o.windows = 3000;
  EXPECT_NE(
      error_of([&] { evaluate(m, text, o); }).find("--windows 3000: the text holds only 2454"),
      std::string::npos);
  o.windows = 1;
  o.window_size = 513;
  EXPECT_NE(error_of([&] { evaluate(m, text, o); }).find("--window-size 513"), std::string::npos);
}

TEST(Bytellama, QuantizedSanity) {
  if (!have_model()) GTEST_SKIP() << kModelDir << " missing";
  LlamaModel m = LlamaModel::load(kModelDir);
  const auto text = read_text(kModelDir + "/data/wiki_test.txt");
  EvalOptions o;
  o.windows = 2;
  o.threads = 2;
  const double fp32 = evaluate(m, text, o).bits_per_byte;
  m.set_format_all(parse_linear_format("mxint8", "mxint8", 32, "fp32"));
  const EvalResult int8 = evaluate(m, text, o);
  m.set_format_all(parse_linear_format("mxfp4_e2m1", "none", 32, "fp32"));
  const EvalResult fp4 = evaluate(m, text, o);
  m.set_format_all(parse_linear_format("mxint3", "none", 32, "fp32"));
  const double int3 = evaluate(m, text, o).bits_per_byte;
  std::printf("bpb fp32 %.6f, mxint8 w+a %.6f, mxfp4 weights %.6f, mxint3 weights %.6f\n", fp32,
              int8.bits_per_byte, fp4.bits_per_byte, int3);
  EXPECT_LT(std::fabs(int8.bits_per_byte - fp32), 0.01);
  // mxfp4 weight-only is worse than mxint8 layer by layer (below); its bits per byte on this
  // model is not: 4-bit MX weights come out slightly *below* fp32 (1.7986 vs 1.8034 on 16
  // windows; mxint4 1.8010), so the bpb check uses 3 bits, where the README expects a cost.
  EXPECT_GT(int3, fp32 + 0.02);
  ASSERT_EQ(int8.per_layer.size(), 6u * 7u + 1u);
  for (std::size_t i = 0; i < int8.per_layer.size(); ++i) {
    EXPECT_GT(int8.per_layer[i].stats.sqnr_db(), 25.0) << int8.per_layer[i].name;
    EXPECT_GT(int8.per_layer[i].stats.sqnr_db(), fp4.per_layer[i].stats.sqnr_db())
        << int8.per_layer[i].name;
  }
}

#ifdef MX_MODEL_SLOW
TEST(BytellamaSlow, Bpb128WindowsMatchesReadme) {
  if (!have_model()) GTEST_SKIP() << kModelDir << " missing";
  const LlamaModel m = LlamaModel::load(kModelDir);
  const auto text = read_text(kModelDir + "/data/wiki_test.txt");
  EvalOptions o;
  o.windows = 128;
  o.threads = 1;
  const EvalResult r1 = evaluate(m, text, o);
  o.threads = 2;
  const EvalResult r2 = evaluate(m, text, o);
  std::printf("bpb %.8f (threads 1), %.8f (threads 2), %.1f s / %.1f s\n", r1.bits_per_byte,
              r2.bits_per_byte, r1.seconds, r2.seconds);
  EXPECT_NEAR(r1.bits_per_byte, 1.804628, 1e-5);
  EXPECT_NEAR(r1.perplexity, 3.493392, 1e-4);
  EXPECT_EQ(r1.predictions, 65536u);
  EXPECT_EQ(r1.bits_per_byte, r2.bits_per_byte);
}
#endif

}  // namespace
}  // namespace mx::model
