// PTQ recipes as pipelines of registered steps (algorithms/ptq_step.hpp): parsing, the
// composition rules, one-line errors naming the step, and the combinations the pipeline
// allows beyond the eight pre-pipeline recipes.
#include <string>

#include <gtest/gtest.h>

#include "algorithms/ptq.hpp"
#include "test_util.hpp"

namespace mx::algo {
namespace {

std::string error_of(std::string_view recipe) {
  std::string e;
  EXPECT_FALSE(Recipe::try_parse(recipe, &e).has_value()) << recipe;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  return e;
}

// Written so that registering another step needs no change here.
TEST(PtqRecipe, RegistryHoldsEveryStepInCanonicalOrder) {
  const PtqStep* prev = nullptr;
  for (const PtqStep* s : ptq_steps()) {
    EXPECT_FALSE(s->doc.empty()) << s->name;
    EXPECT_NE(s->run, nullptr) << s->name;
    EXPECT_EQ(find_ptq_step(s->name), s);
    EXPECT_EQ(s->role == PtqRole::kActivation, s->deploy != nullptr) << s->name;
    if (prev) {
      EXPECT_LE(prev->role, s->role) << s->name;
      if (prev->role == s->role) {
        EXPECT_LE(prev->order, s->order) << s->name;
      }
    }
    prev = s;
  }
  auto index = [](std::string_view n) {
    for (std::size_t i = 0; i < ptq_steps().size(); ++i)
      if (ptq_steps()[i]->name == n) return static_cast<int>(i);
    return -1;
  };
  EXPECT_GE(index("smoothquant"), 0);
  EXPECT_LT(index("smoothquant"), index("awq"));
  EXPECT_LT(index("awq"), index("gptq"));
  EXPECT_LT(index("awq"), index("rtn"));
  EXPECT_LT(index("gptq"), index("crossquant"));
  EXPECT_LT(index("rtn"), index("crossquant"));
  EXPECT_EQ(find_ptq_step("optq"), nullptr);
  EXPECT_FALSE(find_ptq_step("rtn")->needs_calibration);
}

TEST(PtqRecipe, ParsesIntoSteps) {
  const Recipe r = Recipe::parse("smoothquant+awq+gptq");
  ASSERT_EQ(r.steps().size(), 3u);
  EXPECT_EQ(r.steps()[0]->name, "smoothquant");
  EXPECT_EQ(r.steps()[1]->name, "awq");
  EXPECT_EQ(r.steps()[2]->name, "gptq");
  EXPECT_EQ(r.weight_step()->name, "gptq");
  EXPECT_EQ(r.activation_step(), nullptr);
  EXPECT_TRUE(r.needs_calibration());
  EXPECT_EQ(r.name(), "smoothquant+awq+gptq");
  EXPECT_EQ(Recipe::parse(r.name()), r);
  // The default weight quantizer, and the only step that needs no calibration.
  EXPECT_EQ(Recipe::parse("smoothquant").weight_step()->name, "rtn");
  EXPECT_FALSE(Recipe().needs_calibration());
  EXPECT_EQ(Recipe().name(), "rtn");
  EXPECT_EQ(Recipe::parse("crossquant").activation_step()->name, "crossquant");
  EXPECT_EQ(Recipe::kGptq, Recipe::parse("gptq"));
}

TEST(PtqRecipe, BadRecipesNameTheStepAndListTheValidOnes) {
  const std::string rule = " (" + recipe_rule() + ")";
  for (const char* part : {"transforms smoothquant, awq", "weight quantizer (gptq, rtn",
                           "default rtn", "activation quantizer (crossquant"})
    EXPECT_NE(rule.find(part), std::string::npos) << part;
  EXPECT_EQ(error_of("optq"), "unknown step 'optq'" + rule);
  EXPECT_EQ(error_of("smoothquant+optq+gptq"), "unknown step 'optq'" + rule);
  EXPECT_EQ(error_of("gptq+awq"), "step 'awq' must come before 'gptq'" + rule);
  EXPECT_EQ(error_of("awq+smoothquant"), "step 'smoothquant' must come before 'awq'" + rule);
  EXPECT_EQ(error_of("crossquant+gptq"), "step 'gptq' must come before 'crossquant'" + rule);
  EXPECT_EQ(error_of("awq+awq"), "step 'awq' appears twice" + rule);
  EXPECT_EQ(error_of("gptq+rtn"),
            "step 'rtn': only one weight quantizer per recipe (already 'gptq')" + rule);
  EXPECT_EQ(error_of(""), "empty step in ''" + rule);
  EXPECT_EQ(error_of("gptq+"), "empty step in 'gptq+'" + rule);
  EXPECT_EQ(error_of("GPTQ"), "unknown step 'GPTQ'" + rule);
  EXPECT_THROW(Recipe::parse("gptq+awq"), RecipeError);
  EXPECT_FALSE(parse_algorithm("gptq+awq").has_value());
}

PtqOptions int_acts(const char* recipe) {
  PtqOptions o;
  o.algorithm = Recipe::parse(recipe);
  o.weight = parse_quant_spec("mxint4", 32, 0, RoundSpec{}, ScaleRule::kFloor);
  o.act = parse_quant_spec("int8", 32, 0, RoundSpec{}, ScaleRule::kFloor);
  return o;
}

// An explicit rtn is the default weight quantizer.
TEST(PtqRecipe, ExplicitRtnEqualsTheDefault) {
  const Mat x = testing::llm_activations(128, 64, 90, 30.0, 13);
  const Mat w = testing::gaussian(16, 64, 91, 0.05);
  const PtqResult a = run_ptq(w, x, int_acts("smoothquant"));
  const PtqResult b = run_ptq(w, x, int_acts("smoothquant+rtn"));
  EXPECT_EQ(a.w_q_scaled, b.w_q_scaled);
  EXPECT_EQ(a.output.sqnr_db, b.output.sqnr_db);
}

// The pipeline composes CrossQuant's activation path with the transforms and GPTQ: the
// deployed quantizer uses the channel maxima of the transformed calibration inputs, and on
// those inputs it equals the measured (dynamic-maxima) quantization.
TEST(PtqRecipe, CrossQuantComposesWithTransformsAndGptq) {
  const Mat x = testing::llm_activations(256, 64, 92, 30.0, 13);
  const Mat w = testing::gaussian(16, 64, 93, 0.05);
  const PtqResult plain = run_ptq(w, x, int_acts("crossquant"));
  for (const char* recipe : {"smoothquant+crossquant", "smoothquant+gptq+crossquant"}) {
    const PtqResult r = run_ptq(w, x, int_acts(recipe));
    EXPECT_TRUE(r.ran_smoothquant) << recipe;
    EXPECT_EQ(r.ran_gptq, std::string(recipe).find("gptq") != std::string::npos);
    EXPECT_GE(r.act_kernel_per_token, 0) << recipe;
    ASSERT_TRUE(r.act_quantizer) << recipe;
    const Mat xs = x * r.smooth.cwiseInverse().asDiagonal();
    const Mat y = r.act_quantizer(xs) * r.w_q_scaled.transpose();
    const Mat y_ref = x * w.transpose();
    EXPECT_NEAR(10 * std::log10(y_ref.squaredNorm() / (y_ref - y).squaredNorm()), r.output.sqnr_db,
                1e-9)
        << recipe;
    EXPECT_NE(r.output.sqnr_db, plain.output.sqnr_db) << recipe;
  }
  EXPECT_FALSE(run_ptq(w, x, int_acts("gptq")).act_quantizer);
}

}  // namespace
}  // namespace mx::algo
