// mxlab formats: lists the element and MX formats with their key constants.
#include <cstdio>

#include <fmt/format.h>

#include "formats/catalog.hpp"
#include "formats/mx_format.hpp"
#include "tools/mxlab/commands.hpp"

namespace mx::cli {

void register_formats(CLI::App& app, std::vector<Command>& out) {
  CLI::App* sub = app.add_subcommand("formats", "list the element and MX block formats");
  out.push_back({sub, [] {
                   fmt::print("Element formats:\n");
                   for (const ElemFormat& f : catalog_formats()) fmt::print("  {}\n", describe(f));
                   fmt::print("  eXmY[fn|ieee], intN: generic (see README)\n\nMX formats:\n");
                   for (auto n : concrete_mx_format_names())
                     fmt::print("  {:<12} = {}\n", n, describe(parse_mx_format(n).elem));
                   fmt::print(
                       "  mx<elem>     e.g. mxint4, mxe3m4\n  nvfp4        e2m1, blocks of 16, "
                       "ue4m3 x fp32 scales\n");
                   return 0;
                 }});
}

MXLAB_COMMAND(40, register_formats);

}  // namespace mx::cli
