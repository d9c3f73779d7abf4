#include "experiments/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace mx::experiments {

std::optional<TableStyle> parse_table_style(std::string_view s) {
  if (s == "markdown" || s == "md") return TableStyle::kMarkdown;
  if (s == "latex" || s == "tex") return TableStyle::kLatex;
  if (s == "csv") return TableStyle::kCsv;
  return std::nullopt;
}

std::pair<std::string, std::string> parse_where(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::runtime_error(fmt::format("--where {}: expected key=value", s));
  return {s.substr(0, eq), s.substr(eq + 1)};
}

namespace {

bool table_param(const FieldDef* f) {
  return f && f->role == FieldRole::kParam && f->name != "point_id" && f->name != "rounding_seed";
}

std::string param_list() {
  std::string s;
  for (const FieldDef& f : point_fields())
    if (table_param(&f)) s += (s.empty() ? "" : ", ") + std::string(f.name);
  return s;
}

const FieldDef& param_field(const std::string& flag, const std::string& name) {
  const FieldDef* f = find_field(name);
  if (!table_param(f))
    throw std::runtime_error(
        fmt::format("{} {}: not a sweep parameter ({})", flag, name, param_list()));
  return *f;
}

bool is_number_field(const FieldDef& f) { return f.type != FieldType::kStr; }

// Distinct values of a field, in axis order where the file lists the axis, else sorted
// (numerically for numbers).
std::vector<std::string> ordered_values(const ResultFile& r, const FieldDef& f,
                                        const std::vector<const PointRecord*>& recs) {
  std::set<std::string> present;
  for (const auto* p : recs) present.insert(field_string(p->row, f));
  std::vector<std::string> out;
  const auto ax = r.axes.find(std::string(f.name));
  if (ax != r.axes.end())
    for (const auto& v : ax->second)
      if (present.count(v) && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  std::vector<std::string> rest;
  for (const auto& v : present)
    if (std::find(out.begin(), out.end(), v) == out.end()) rest.push_back(v);
  if (is_number_field(f))
    std::sort(rest.begin(), rest.end(), [](const std::string& a, const std::string& b) {
      // strtod, not stod: values from a file may be subnormal ("5e-324": stod throws) or
      // NaN (ordered last, so that the order stays a strict weak order).
      const double x = std::strtod(a.c_str(), nullptr), y = std::strtod(b.c_str(), nullptr);
      if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
      return x < y;
    });
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

std::string number(double v, const std::string& metric, int precision, TableStyle style) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) {
    if (style == TableStyle::kLatex) return v > 0 ? "$\\infty$" : "$-\\infty$";
    return v > 0 ? "inf" : "-inf";
  }
  const bool fixed = metric.ends_with("_db") || metric.ends_with("_pct");
  if (precision < 0) {
    if (style == TableStyle::kCsv) return fmt::format("{}", v);
    precision = fixed ? 2 : 4;
  }
  return fixed ? fmt::format("{:.{}f}", v, precision) : fmt::format("{:.{}g}", v, precision);
}

std::string latex_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '_':
      case '%':
      case '&':
      case '#':
      case '$':
      case '{':
      case '}':
        o += '\\';
        o += c;
        break;
      case '~':
        o += "\\textasciitilde{}";
        break;
      case '^':
        o += "\\textasciicircum{}";
        break;
      case '\\':
        o += "\\textbackslash{}";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

}  // namespace

std::string format_table(const ResultFile& r, const TableSpec& spec) {
  const FieldDef& rf = param_field("--rows", spec.rows);
  const FieldDef& cf = param_field("--cols", spec.cols);
  if (rf.name == cf.name)
    throw std::runtime_error(fmt::format("--cols {}: same as --rows", spec.cols));
  const FieldDef* mf = find_field(spec.metric);
  if (!mf || mf->type != FieldType::kF64 || mf->role == FieldRole::kParam) {
    std::string names;
    for (const FieldDef& f : point_fields())
      if (f.type == FieldType::kF64 && f.role != FieldRole::kParam)
        names += (names.empty() ? "" : ", ") + std::string(f.name);
    throw std::runtime_error(fmt::format("--metric {}: not a statistic ({})", spec.metric, names));
  }

  std::vector<const PointRecord*> recs;
  for (const auto& p : r.records) recs.push_back(&p);
  std::string where_text;
  for (const auto& [key, value] : spec.where) {
    const FieldDef& f = param_field("--where", key);
    std::vector<const PointRecord*> kept;
    std::set<std::string> have;
    for (const auto* p : recs) {
      const std::string v = field_string(p->row, f);
      have.insert(v);
      bool match = v == value;
      if (!match && is_number_field(f)) {
        try {
          std::size_t used = 0;
          const double want = std::stod(value, &used);
          match = used == value.size() && field_number(p->row, f) == want;
        } catch (const std::exception&) {
        }
      }
      if (match) kept.push_back(p);
    }
    if (kept.empty()) {
      std::string list;
      for (const auto& h : have) list += (list.empty() ? "" : ", ") + h;
      throw std::runtime_error(fmt::format("--where {}={}: no point has {} = {} (have: {})", key,
                                           value, key, value, list.empty() ? "none" : list));
    }
    recs = std::move(kept);
    where_text += fmt::format("{}{}={}", where_text.empty() ? "" : ", ", key, value);
  }
  if (recs.empty()) throw std::runtime_error("the result file has no points");

  const auto row_vals = ordered_values(r, rf, recs);
  const auto col_vals = ordered_values(r, cf, recs);
  struct Cell {
    double sum = 0;
    std::size_t n = 0;
  };
  std::map<std::pair<std::string, std::string>, Cell> cells;
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::set<std::string>>>
      varying;
  for (const auto* p : recs) {
    const auto key = std::pair{field_string(p->row, rf), field_string(p->row, cf)};
    Cell& c = cells[key];
    c.sum += field_number(p->row, *mf);
    ++c.n;
    for (const FieldDef& f : point_fields())
      if (table_param(&f) && f.name != "n")
        varying[key][std::string(f.name)].insert(field_string(p->row, f));
  }
  // Parameters that take more than one value inside some cell were averaged over.
  std::map<std::string, std::set<std::string>> averaged;
  for (const auto& [key, fields] : varying)
    for (const auto& [name, vals] : fields)
      if (vals.size() > 1) averaged[name];
  for (const auto* p : recs)
    for (auto& [name, vals] : averaged) vals.insert(field_string(p->row, *find_field(name)));
  std::string note = fmt::format("metric: {}", spec.metric);
  if (!where_text.empty()) note += "; where " + where_text;
  if (!averaged.empty()) {
    note += "; mean over ";
    bool first = true;
    for (const auto& [name, vals] : averaged) {
      note += fmt::format("{}{} ({} values)", first ? "" : ", ", name, vals.size());
      first = false;
    }
  }

  auto cell_text = [&](const std::string& rv, const std::string& cv) -> std::string {
    const auto it = cells.find({rv, cv});
    if (it == cells.end())
      return spec.style == TableStyle::kLatex ? "--" : spec.style == TableStyle::kCsv ? "" : "-";
    return number(it->second.sum / static_cast<double>(it->second.n), spec.metric, spec.precision,
                  spec.style);
  };

  std::string out;
  switch (spec.style) {
    case TableStyle::kMarkdown: {
      out += fmt::format("| {} \\ {} |", spec.rows, spec.cols);
      for (const auto& c : col_vals) out += fmt::format(" {} |", c);
      out += "\n|:--|";
      for (std::size_t i = 0; i < col_vals.size(); ++i) out += "--:|";
      out += "\n";
      for (const auto& rv : row_vals) {
        out += fmt::format("| {} |", rv);
        for (const auto& cv : col_vals) out += fmt::format(" {} |", cell_text(rv, cv));
        out += "\n";
      }
      out += "\n" + note + "\n";
      break;
    }
    case TableStyle::kLatex: {
      const std::size_t nc = col_vals.size();
      out += "% mxlab table: " + note + "\n";
      out += "\\begin{tabular}{l" + std::string(nc, 'r') + "}\n\\toprule\n";
      out += fmt::format(" & \\multicolumn{{{}}}{{c}}{{{}}} \\\\\n", nc, latex_escape(spec.cols));
      out += fmt::format("\\cmidrule(lr){{2-{}}}\n", nc + 1);
      out += latex_escape(spec.rows);
      for (const auto& c : col_vals) out.append(" & ").append(latex_escape(c));
      out += " \\\\\n\\midrule\n";
      for (const auto& rv : row_vals) {
        out += latex_escape(rv);
        for (const auto& cv : col_vals) out.append(" & ").append(cell_text(rv, cv));
        out += " \\\\\n";
      }
      out += "\\bottomrule\n\\end{tabular}\n";
      break;
    }
    case TableStyle::kCsv: {
      out += csv_field(spec.rows);
      for (const auto& c : col_vals) out.append(",").append(csv_field(c));
      out += "\n";
      for (const auto& rv : row_vals) {
        out += csv_field(rv);
        for (const auto& cv : col_vals) out.append(",").append(cell_text(rv, cv));
        out += "\n";
      }
      break;
    }
  }
  return out;
}

}  // namespace mx::experiments
